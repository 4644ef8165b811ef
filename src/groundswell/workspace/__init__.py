"""The staff workspace: the pages organisers use in the site's own look (issue 18),
every one showing only what the signed-in user's organisations may see."""
