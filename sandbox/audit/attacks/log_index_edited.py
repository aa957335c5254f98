# attack: log_index_edited
# class: 8
# category: log_evidence
# kind: audit_tamper
# run: scenario
# check: verify_fails
# describe: rewrite the SQLite index that list/show/summary read: the high-severity records become harmless exec records
import json
import sqlite3
import sys

P = json.load(open(sys.argv[1]))
db = sqlite3.connect(P["index"])
with db:
    db.execute("UPDATE events SET kind = 'exec', severity = 'info', "
               "record = replace(replace(record, '\"secret_read\"', '\"exec\"'), '\"high\"', '\"info\"') "
               "WHERE kind = 'secret_read'")
db.close()
