#!/usr/bin/env python3
"""Writes the migration that records how régions' and départements' names take an article (typeLiaison).
   tools/territories/articles.py DATA_DIR VERSION OUTPUT.sql   (called by update.sh)"""
import json
import os
import sys

data, version, output = sys.argv[1], sys.argv[2], sys.argv[3]
rows = []
for name, prefix in (("regions", "R"), ("departements", "")):
    with open(os.path.join(data, name + ".json"), encoding="utf-8") as f:
        rows += [f"('{prefix}{x['code']}', {x['typeLiaison']})" for x in json.load(f)]

sql = f"""-- How a région's or a département's name takes an article (INSEE's "type de nom en clair", typeLiaison in
-- @etalab/decoupage-administratif {version}, departements.json and regions.json): 0 and 1 none, 2 "le", 3 "la",
-- 4 "les", 5 "l'". Titles say "Emplois en Gironde", "dans les Landes", "dans le Nord" from it (TerritoryInfo.In).
-- Written by tools/territories/articles.py.
ALTER TABLE territories ADD COLUMN IF NOT EXISTS name_article smallint;

UPDATE territories t SET name_article = v.article
FROM (VALUES
  """ + ",\n  ".join(rows) + """
) AS v (code, article)
WHERE t.code = v.code AND t.name_article IS DISTINCT FROM v.article;
"""
with open(output, "w", encoding="utf-8") as f:
    f.write(sql)
