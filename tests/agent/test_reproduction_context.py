"""What a language model reads of the project when it writes a reproduction test: the modules
the issue points at (by file name, by the names they define), not the smallest ones first."""
from __future__ import annotations

from repair_helpers import write

from ouro.agent.localize import issue_file_scores
from ouro.agent.repair.pipeline import reproduction_context
from ouro.agent.repomap import build_repomap

ISSUE = ("Blueprint response middleware runs in registration order instead of reverse order: with "
         "`bp.middleware('response')` registered twice, the first one registered runs first.")
FILLER = "".join(f"\n\ndef helper_{i}(request):\n    return request.headers.get('x-{i}')\n" for i in range(300))
FILES = {
    "web/__init__.py": "from web.app import App\n",
    "web/handlers/__init__.py": "",
    "web/utils/__init__.py": "VERSION = '1.0'\n",
    "web/response.py": "class Response:\n    def __init__(self, body=''):\n        self.body = body\n",
    "web/app.py": ("class App:\n    def __init__(self):\n        self.response_middleware = []\n\n"
                   "    def register_middleware(self, fn, attach_to='request'):\n"
                   "        self.response_middleware.append(fn)\n"),
    # the module the issue is about, bigger than the others (and, below, than the room)
    "web/blueprints.py": ("class Blueprint:\n    def __init__(self, name):\n        self.name = name\n"
                          "        self.middlewares = []\n\n    def middleware(self, attach_to='request'):\n"
                          "        def register(fn):\n            self.middlewares.append((fn, attach_to))\n"
                          "            return fn\n        return register\n" + FILLER),
    "tests/test_app.py": "from web.app import App\n\n\ndef test_app():\n    assert App().response_middleware == []\n",
    # named as luigi names its tests; a helper that defines what the issue names is no example
    "tests/blueprints_test.py": ("from web.blueprints import Blueprint\n\n\ndef test_bp():\n"
                                 "    assert Blueprint('bp').name == 'bp'\n"),
    "tests/helper.py": "def middleware(app):\n    return app.response_middleware\n",
}


def test_the_issues_module_comes_first_and_the_example_test_is_its_test(tmp_path):
    repo = write(tmp_path / "repo", FILES)
    sources, example = reproduction_context(repo, sorted(FILES), ISSUE, 60_000)
    assert list(sources)[0] == "web/blueprints.py"
    assert set(sources) == {f for f, t in FILES.items() if t and not f.startswith("tests/")}   # empty ones say nothing
    assert example == ("tests/blueprints_test.py", FILES["tests/blueprints_test.py"])


def test_a_module_too_big_for_the_room_is_shown_as_what_the_issue_names(tmp_path):
    repo = write(tmp_path / "repo", FILES)
    room = 3_000
    assert len(FILES["web/blueprints.py"]) > room
    sources, _ = reproduction_context(repo, sorted(FILES), ISSUE, room)
    first = next(iter(sources))
    assert first == "web/blueprints.py" and "class Blueprint:" in sources[first] and "helper_1" not in sources[first]
    assert sum(map(len, sources.values())) <= room and "web/app.py" in sources


def test_issue_file_scores_rank_named_files_then_rare_definitions(tmp_path):
    files = {"a/parser.py": "def parse_header(x):\n    return x\n", "a/util.py": "def run(x):\n    return x\n",
             "a/other.py": "def run(x):\n    return parse_header(x)\n", "a/__init__.py": "X = 1\n"}
    rmap = build_repomap(write(tmp_path / "repo", files), sorted(files))
    scores = issue_file_scores("parse_header in a/util.py fails when run twice", sorted(files), rmap)
    # named by path; defines the rare name the issue names; defines a common one and uses the rare one
    assert scores["a/util.py"] > scores["a/parser.py"] > scores["a/other.py"] > scores["a/__init__.py"] == 0
