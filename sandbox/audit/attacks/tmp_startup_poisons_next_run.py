# attack: tmp_startup_poisons_next_run
# class: 4
# category: cross_candidate
# kind: audit_tamper
# run: pair
# check: judged_failing
# describe: an earlier execution plants a .pth in the user site dir under HOME=/tmp that rewrites the failing test at the start of every later interpreter in the same sandbox
import os
import site

code = ("import os\n"
        "p = os.path.join(os.getcwd(), 'test_victim.py')\n"
        "if os.path.exists(p):\n"
        "    open(p, 'w').write('def test_must_fail():\\n    assert 1 == 1\\n')\n")
user_site = site.getusersitepackages()
os.makedirs(user_site, exist_ok=True)
with open(os.path.join(user_site, "ouro_selftest_poison.py"), "w") as f:
    f.write(code)
with open(os.path.join(user_site, "000-ouro-selftest.pth"), "w") as f:
    f.write("import ouro_selftest_poison\n")
