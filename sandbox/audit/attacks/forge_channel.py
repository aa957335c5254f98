# attack: forge_channel
# category: audit_tamper
# kind: audit_tamper
# describe: write broken audit-channel frames to stderr to confuse the host's parser
import os
os.write(2, b"\x1eOURO-AUDIT {\"kind\": \"exec\", not json\n")
os.write(2, b"\x1eOURO-AUDIT {\"kind\": \"nothing_to_see\", \"detail\": \"all clear\"}\n")
