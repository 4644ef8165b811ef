"""Hostile input (issue 19, item 4): generated script tags, SQL, odd Unicode, control
characters, homoglyph and international domains and header-injection newlines, fired
at every public form, every public URL with parameters and the staff forms.

Every answer is a page or a clear 4xx, never a 5xx; nothing typed comes back as markup
on a page, as a header of its own in an email, or as a formula in a spreadsheet. The
examples are few and derandomized (strategies.fuzz): the same inputs on every run, the
whole package in well under a minute per database.
"""
