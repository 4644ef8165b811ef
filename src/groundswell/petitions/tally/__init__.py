"""The staff dashboard's figures for a petition, fast at a million signatures.

Grouping a million signatures by hour, source and country on every request takes
seconds. Instead a background task (petitions.tasks.refresh_tallies, every
TALLY_EVERY) keeps `SignatureTally` rows: valid signatures per petition, hour and one
dimension's value (`refresh.py`, which also merges old hours into days). The
dashboard's `figures` (`dashboard.py`) reads those (a few thousand rows) and adds the
signatures created since the petition's `TallyMark`, grouped on the fly
(`counting.py`: seconds' worth, found by the (petition, created_at) index), so the
figures are never behind the signatures.

A refresh recounts from LATE before the mark: a signature gets its time before its
transaction commits, and one that commits later than that is not counted (delete a
petition's TallyMark to recount it from the start). Invalidating, restoring,
erasing or merging signatures changes the tallies in the same transaction
(`follow.py`, `tallies_follow`), so the dashboard drops an invalidated signature at
once. docs/performance.md has the timings.
"""
