#!/usr/bin/env python3
"""
test/mutation/mutate.py: mutation testing of omnikpi's C code, run by
test/mutation/run.sh (`make mutation`).

A mutant is a copy of one source file with one small change of the kind a
slip of the keyboard makes: an operator swapped, a constant changed, a
condition negated, a statement removed.  Each mutant is built, installed into
a private PostgreSQL, and the pg_regress suite runs against it; a test that
fails "kills" it.  A mutant that every test passes points at code the tests
do not check: either a test is missing, or the change makes no difference
(an equivalent mutant).

    mutate.py list [--files GLOB...]           print the mutants
    mutate.py run --jobs-file F --report R ... run them, write the report
    mutate.py report --log L --report R        the report of the mutants in a
                                               log (of a run stopped early)

Mutants are found by a small C tokenizer, not by a compiler, so some do not
compile (a '*' taken for a product that was a pointer declaration); those
are counted apart and never as killed.  Left out on purpose, because a
change there cannot be seen by any test or is not compiled at all:
comments, strings, preprocessor lines, code under #ifdef
USE_ASSERT_CHECKING (PostgreSQL's packages are built without assertions),
the arguments of Assert, assert_*_valid, elog (cannot-happen errors),
ereport (message texts and codes; removing a whole ereport is a mutant),
sizeof and lengthof, array sizes in declarations, and removing calls that
only free memory (pfree, MemoryContextDelete, ...), since a leak changes no
result.
"""

import argparse
import fnmatch
import json
import os
import queue
import random
import re
import signal
import subprocess
import sys
import threading
import time

# --------------------------------------------------------------------------
# Tokenizer
# --------------------------------------------------------------------------

PUNCTUATORS = sorted("""
>>= <<= ... -> ++ -- << >> <= >= == != && || += -= *= /= %= &= ^= |= ##
{ } [ ] ( ) ; : , . ? ~ ! + - * / % < > = & ^ | #
""".split(), key=len, reverse=True)

TOKEN_RE = re.compile(r"""
    (?P<ws>[ \t\r\f\v]+)
  | (?P<nl>\n)
  | (?P<comment>/\*.*?\*/|//[^\n]*)
  | (?P<string>"(?:\\.|[^"\\\n])*")
  | (?P<char>'(?:\\.|[^'\\\n])*')
  | (?P<number>(?:0[xX][0-9a-fA-F]+|(?:\d+\.\d*|\.\d+|\d+)(?:[eE][+-]?\d+)?)[uUlLfF]*)
  | (?P<ident>[A-Za-z_]\w*)
  | (?P<punct>""" + "|".join(re.escape(p) for p in PUNCTUATORS) + r""")
""", re.S | re.X)

KEYWORDS = {
    "auto", "break", "case", "char", "const", "continue", "default", "do",
    "double", "else", "enum", "extern", "float", "for", "goto", "if",
    "inline", "int", "long", "register", "restrict", "return", "short",
    "signed", "sizeof", "static", "struct", "switch", "typedef", "union",
    "unsigned", "void", "volatile", "while", "bool",
}

# Lower-case type names of C and PostgreSQL that a '*' may follow in a
# declaration (CamelCase names are taken for types anyway).
TYPE_WORDS = {
    "char", "int", "long", "short", "double", "float", "void", "bool", "const",
    "unsigned", "signed", "size_t", "ssize_t", "text", "bytea", "int8", "int16",
    "int32", "int64", "uint8", "uint16", "uint32", "uint64", "float4", "float8",
    "va_list",
}

# Calls whose arguments are not mutated (see the module comment).
SKIP_ARGUMENTS = {"Assert", "AssertArg", "AssertState", "StaticAssertStmt",
                  "StaticAssertDecl", "elog", "ereport", "sizeof", "lengthof",
                  "PG_FUNCTION_INFO_V1", "pg_unreachable"}
# Statements whose removal is not a mutant: they only free memory, check
# assertions, or report a cannot-happen error.
SKIP_REMOVAL = {"pfree", "MemoryContextDelete", "MemoryContextReset",
                "list_free", "list_free_deep", "bms_free", "Assert",
                "AssertArg", "elog", "PG_FUNCTION_INFO_V1", "pg_unreachable",
                "CHECK_FOR_INTERRUPTS", "va_end", "va_start"}


class Token:
    __slots__ = ("kind", "text", "start", "end", "line", "active")

    def __init__(self, kind, text, start, end, line, active):
        self.kind, self.text, self.start, self.end = kind, text, start, end
        self.line, self.active = line, active


def tokenize(source):
    """The significant tokens of a C file.  Preprocessor lines are skipped;
    tokens inside #ifdef USE_ASSERT_CHECKING (not defined in the build) are
    marked inactive."""
    tokens = []
    pos, line = 0, 1
    at_line_start = True
    inactive_depth = 0   # > 0 inside a region the build does not compile
    if_stack = []        # per open #if: True if it opened an inactive region
    n = len(source)
    while pos < n:
        if at_line_start:
            m = re.match(r"[ \t]*#", source[pos:pos + 200])
            if m:
                end = pos
                while True:
                    nl = source.find("\n", end)
                    if nl == -1:
                        nl = n
                    if nl > 0 and source[nl - 1] == "\\":
                        end = nl + 1
                        continue
                    break
                directive = source[pos:nl]
                line += directive.count("\n")
                words = directive.replace("#", " ", 1).split()
                word = words[0] if words else ""
                if word in ("if", "ifdef", "ifndef"):
                    opens = word == "ifdef" and len(words) > 1 and words[1] == "USE_ASSERT_CHECKING"
                    if_stack.append(opens)
                    if opens:
                        inactive_depth += 1
                elif word in ("else", "elif") and if_stack:
                    if if_stack[-1]:
                        # the #else of an assertion-only region is compiled
                        inactive_depth -= 1
                        if_stack[-1] = False
                elif word == "endif" and if_stack:
                    if if_stack.pop():
                        inactive_depth -= 1
                pos = nl
                continue
        m = TOKEN_RE.match(source, pos)
        if not m:
            raise ValueError("cannot tokenize at line %d: %r" % (line, source[pos:pos + 20]))
        kind = m.lastgroup
        text = m.group()
        if kind == "nl":
            line += 1
            at_line_start = True
        elif kind in ("ws",):
            pass
        else:
            at_line_start = False
            if kind == "comment":
                line += text.count("\n")
            else:
                tokens.append(Token(kind, text, m.start(), m.end(), line, inactive_depth == 0))
        pos = m.end()
    return tokens


def matching(tokens, i):
    """Index of the bracket closing tokens[i]."""
    opener = tokens[i].text
    closer = {"(": ")", "[": "]", "{": "}"}[opener]
    depth = 0
    for j in range(i, len(tokens)):
        if tokens[j].text == opener:
            depth += 1
        elif tokens[j].text == closer:
            depth -= 1
            if depth == 0:
                return j
    return len(tokens) - 1


# --------------------------------------------------------------------------
# Mutants
# --------------------------------------------------------------------------

class Mutant:
    def __init__(self, path, start, end, replacement, line, operator, before, after):
        self.path, self.start, self.end, self.replacement = path, start, end, replacement
        self.line, self.operator, self.before, self.after = line, operator, before, after

    @property
    def id(self):
        return "%s:%d:%d:%s" % (self.path, self.line, self.start, self.operator)

    def apply(self, source):
        return source[:self.start] + self.replacement + source[self.end:]


def is_type_word(word):
    return (word in TYPE_WORDS or word.endswith("_t")
            or (word[:1].isupper() and any(c.islower() for c in word)))


def is_operand_end(tok):
    """Whether tok can end an operand, so that a following + - * & is binary."""
    if tok.kind == "number":
        return True
    if tok.kind == "ident":
        return tok.text not in KEYWORDS and not is_type_word(tok.text)
    return tok.text in (")", "]")


def skipped_ranges(tokens):
    """Token index ranges (inclusive) not to mutate: arguments of the calls in
    SKIP_ARGUMENTS and of assert_* calls."""
    ranges = []
    for i, tok in enumerate(tokens[:-1]):
        if tok.kind == "ident" and tokens[i + 1].text == "(" and \
                (tok.text in SKIP_ARGUMENTS or tok.text.startswith("assert_")):
            ranges.append((i + 1, matching(tokens, i + 1)))
    return ranges


def function_bodies(tokens):
    """(open, close) token indexes of the function bodies: a '{' at file level
    right after a ')'."""
    bodies = []
    depth = 0
    i = 0
    while i < len(tokens):
        t = tokens[i].text
        if t == "{":
            if depth == 0 and i > 0 and tokens[i - 1].text == ")":
                close = matching(tokens, i)
                bodies.append((i, close))
                i = close + 1
                continue
            depth += 1
        elif t == "}":
            depth -= 1
        i += 1
    return bodies


def in_array_size_declaration(tokens, i):
    """A number in 'type name[N]' (an array size: changing it changes no result)."""
    return (i >= 3 and tokens[i - 1].text == "[" and i + 1 < len(tokens) and tokens[i + 1].text == "]"
            and tokens[i - 2].kind == "ident" and
            (tokens[i - 3].kind == "ident" or tokens[i - 3].text == "*"))


def number_mutation(text):
    """A literal changed: 0 -> 1, 1 -> 0, else n -> n + 1 (floats too)."""
    m = re.match(r"(0[xX][0-9a-fA-F]+|[\d.]+(?:[eE][+-]?\d+)?)([uUlLfF]*)$", text)
    if not m:
        return None
    body, suffix = m.groups()
    try:
        if body.lower().startswith("0x"):
            value = int(body, 16)
            return hex(value + 1) + suffix if value not in (0, 1) else str(1 - value) + suffix
        if re.fullmatch(r"\d+", body):
            value = int(body)
            return (str(1 - value) if value in (0, 1) else str(value + 1)) + suffix
        value = float(body)
        new = 1.0 if value == 0.0 else (0.0 if value == 1.0 else value + 1.0)
        return repr(new) + suffix
    except ValueError:
        return None


SWAPS = {
    "arithmetic": {"+": "-", "-": "+", "*": "/", "/": "*", "%": "*"},
    "assignment": {"+=": "-=", "-=": "+=", "*=": "/=", "/=": "*=", "|=": "&=", "&=": "|=",
                   "<<=": ">>=", ">>=": "<<="},
    "increment": {"++": "--", "--": "++"},
    "relational": {"<": "<=", "<=": "<", ">": ">=", ">=": ">", "==": "!=", "!=": "=="},
    "logical": {"&&": "||", "||": "&&"},
    "bitwise": {"<<": ">>", ">>": "<<", "&": "|", "|": "&", "^": "&"},
}
BINARY_ONLY = {"+", "-", "*", "&"}
STATEMENT_KEYWORDS = {"return", "break", "continue", "goto", "case", "default", "else", "do",
                      "if", "for", "while", "switch", "typedef", "static", "const", "struct",
                      "enum", "union", "extern", "register", "volatile"}


def statement_starts(tokens, body):
    """Indexes of the first tokens of the statements in one function body."""
    open_i, close_i = body
    starts = set()
    after_header = set()
    for i in range(open_i, close_i):
        t = tokens[i]
        if t.text in ("if", "while", "for", "switch") and tokens[i + 1].text == "(":
            after_header.add(matching(tokens, i + 1))
    paren = 0
    for i in range(open_i, close_i):
        t = tokens[i].text
        if t == "(":
            paren += 1
        elif t == ")":
            paren -= 1
        if paren == 0 and (t in (";", "{", "}", "else") or i in after_header or
                           (t == ":" and i > 0 and tokens[i - 1].text == "default") or
                           (t == ":" and any(tokens[k].text == "case" for k in range(max(open_i, i - 4), i)))):
            starts.add(i + 1)
        elif i in after_header:
            starts.add(i + 1)
    return sorted(s for s in starts if s < close_i)


def removal_span(tokens, i, close_i):
    """(first, last) token indexes of a removable expression statement at i, or None."""
    t = tokens[i]
    if t.kind == "ident":
        if t.text in STATEMENT_KEYWORDS or t.text in KEYWORDS or t.text in SKIP_REMOVAL \
                or t.text.startswith("assert_"):
            return None
        nxt = tokens[i + 1]
        # a declaration: 'Type name', 'Type *name'
        if nxt.kind == "ident" or (nxt.text == "*" and tokens[i + 2].kind == "ident"
                                   and tokens[i + 3].text in ("=", ";", ",", "[", ")")
                                   and is_type_word(t.text)):
            return None
        if nxt.text == ":":     # a label
            return None
    elif t.text == "(":
        if not (tokens[i + 1].text == "void" and tokens[i + 2].text == ")"):
            return None
    elif t.text not in ("*", "++", "--"):
        return None
    paren = 0
    for j in range(i, close_i):
        x = tokens[j].text
        if x in ("(", "["):
            paren += 1
        elif x in (")", "]"):
            paren -= 1
        elif x in ("{", "}"):
            return None
        elif x == ";" and paren == 0:
            return (i, j)
    return None


def find_mutants(path, source):
    tokens = tokenize(source)
    skip = skipped_ranges(tokens)
    skipped = set()
    for a, b in skip:
        skipped.update(range(a, b + 1))
    mutants = []

    def add(i_start, i_end, replacement, operator, tok_line):
        start, end = tokens[i_start].start, tokens[i_end].end
        line_start = source.rfind("\n", 0, start) + 1
        line_end = source.find("\n", end)
        line_end = len(source) if line_end == -1 else line_end
        before = source[line_start:line_end]
        after = source[line_start:start] + replacement + source[end:line_end]
        mutants.append(Mutant(path, start, end, replacement, tok_line, operator,
                              " ".join(before.split()), " ".join(after.split())))

    depth = 0
    for i, tok in enumerate(tokens):
        if tok.text in ("{", "(", "["):
            depth += 1
        elif tok.text in ("}", ")", "]"):
            depth -= 1
        if not tok.active or i in skipped:
            continue
        # At file level, outside any bracket, only constants are mutated:
        # the rest is declarations.
        if depth == 0 and tok.kind != "number" and tok.text not in ("true", "false"):
            continue
        if tok.kind == "number":
            if in_array_size_declaration(tokens, i):
                continue
            new = number_mutation(tok.text)
            if new is not None and new != tok.text:
                add(i, i, new, "constant", tok.line)
            continue
        if tok.kind == "ident" and tok.text in ("true", "false"):
            add(i, i, "false" if tok.text == "true" else "true", "constant", tok.line)
            continue
        if tok.kind != "punct":
            continue
        for operator, table in SWAPS.items():
            if tok.text not in table:
                continue
            if tok.text in BINARY_ONLY and (i == 0 or not is_operand_end(tokens[i - 1])):
                continue
            add(i, i, table[tok.text], operator, tok.line)

    for body in function_bodies(tokens):
        open_i, close_i = body
        for i in range(open_i, close_i):
            tok = tokens[i]
            if not tok.active or i in skipped:
                continue
            # negated conditions of if and while
            if tok.text in ("if", "while") and tokens[i + 1].text == "(":
                close = matching(tokens, i + 1)
                inner = source[tokens[i + 2].start:tokens[close - 1].end]
                add(i + 2, close - 1, "!(" + inner + ")", "negation", tok.line)
        for i in statement_starts(tokens, body):
            if not tokens[i].active or i in skipped:
                continue
            span = removal_span(tokens, i, close_i)
            if span:
                add(span[0], span[1], ";", "removal", tokens[i].line)
    mutants.sort(key=lambda m: (m.start, m.operator))
    return mutants


def source_files(root, patterns):
    """src/**/*.c and the headers that hold code (static inline functions)."""
    found = []
    for dirpath, dirnames, filenames in os.walk(os.path.join(root, "src")):
        dirnames.sort()
        for name in sorted(filenames):
            path = os.path.relpath(os.path.join(dirpath, name), root)
            if not (name.endswith(".c") or name.endswith(".h")):
                continue
            if patterns and not any(fnmatch.fnmatch(path, p) for p in patterns):
                continue
            if name.endswith(".h"):
                with open(os.path.join(root, path)) as f:
                    if not re.search(r"\binline\b", f.read()):
                        continue
            found.append(path)
    return found


def all_mutants(root, patterns):
    mutants = []
    for path in source_files(root, patterns):
        with open(os.path.join(root, path)) as f:
            mutants.extend(find_mutants(path, f.read()))
    return mutants


# Files whose code reads and writes the stored forms; everything else is
# the arithmetic, state and attribution code.
IO_PATTERN = re.compile(r"(text|binary|_io|json|lexer)[^/]*$")


def group_of(path):
    return "I/O (text, binary, JSON)" if IO_PATTERN.search(path) else "arithmetic, state and attribution"


# --------------------------------------------------------------------------
# Running mutants
# --------------------------------------------------------------------------

# The pg_regress runs under way: each runs in a session of its own (so that
# it can be stopped with all its processes), which a signal to this script
# does not reach.
RUNNING = set()


def stop_running(signum, frame):
    for proc in list(RUNNING):
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    # at once: sys.exit would wait for the worker threads
    os._exit(128 + signum)


class Job:
    """One private PostgreSQL with its cluster and its own copy of the sources."""

    def __init__(self, spec, tests, timeout):
        self.src = spec["src"]
        self.pg_config = spec["pg_config"]
        self.bindir = spec["bindir"]
        self.pkglibdir = spec["pkglibdir"]
        self.datadir = spec["datadir"]
        self.server_log = spec["server_log"]
        self.env = dict(os.environ, PGHOST=spec["pghost"], PGPORT=spec["pgport"],
                        PGUSER=spec["pguser"], PGDATABASE="postgres", PG_CONFIG=self.pg_config)
        self.tests = tests
        self.timeout = timeout
        self.rebuild_all = False
        self.baseline_roles = None

    def psql(self, sql, timeout=60):
        return subprocess.run([os.path.join(self.bindir, "psql"), "-X", "-At", "-v", "ON_ERROR_STOP=1",
                               "-c", sql], env=self.env, capture_output=True, text=True, timeout=timeout)

    def as_server_user(self, argv):
        if os.geteuid() == 0:
            return ["runuser", "-u", "postgres", "--"] + argv
        return argv

    def restart(self):
        """Immediate restart: a backend spinning in a mutated loop never
        reaches an interrupt check, so only SIGQUIT ends it."""
        pg_ctl = os.path.join(self.bindir, "pg_ctl")
        subprocess.run(self.as_server_user([pg_ctl, "-D", self.datadir, "-m", "immediate", "-w", "-t", "60",
                                            "stop"]), capture_output=True, cwd="/")
        subprocess.run(self.as_server_user([pg_ctl, "-D", self.datadir, "-l", self.server_log, "-w", "-t",
                                            "120", "start"]), capture_output=True, cwd="/")

    def wait_ready(self, seconds=60):
        deadline = time.time() + seconds
        while time.time() < deadline:
            try:
                if self.psql("SELECT 1", timeout=10).returncode == 0:
                    return True
            except subprocess.TimeoutExpired:
                pass
            time.sleep(0.5)
        return False

    def roles(self):
        out = self.psql("SELECT rolname FROM pg_roles ORDER BY 1")
        return set(out.stdout.split())

    def clean_cluster(self):
        """What a stopped or failed run left behind: sessions, databases, roles."""
        if not self.wait_ready():
            self.restart()
            self.wait_ready()
        try:
            self.psql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                      "WHERE pid <> pg_backend_pid() AND backend_type = 'client backend'")
            for _ in range(40):
                left = self.psql("SELECT count(*) FROM pg_stat_activity WHERE pid <> pg_backend_pid() "
                                 "AND backend_type = 'client backend'").stdout.strip()
                if left == "0":
                    break
                time.sleep(0.25)
            else:
                self.restart()
                self.wait_ready()
            dbs = self.psql("SELECT datname FROM pg_database WHERE datname NOT IN "
                            "('postgres', 'template0', 'template1')").stdout.split()
            for db in dbs:
                self.psql('DROP DATABASE IF EXISTS "%s"' % db.replace('"', '""'))
            for role in sorted(self.roles() - self.baseline_roles):
                self.psql('DROP ROLE IF EXISTS "%s"' % role.replace('"', '""'))
        except subprocess.TimeoutExpired:
            self.restart()
            self.wait_ready()

    def build(self):
        # No LLVM bitcode for the JIT: it doubles the compile time and the
        # tests do not use it.
        argv = ["make", "-s", "all", "COPT=-g0", "with_llvm=no", "PG_CONFIG=" + self.pg_config]
        if self.rebuild_all:
            argv.insert(1, "-B")
        r = subprocess.run(argv, cwd=self.src, capture_output=True, text=True)
        if r.returncode != 0:
            return False
        so = os.path.join(self.src, "omnikpi.so")
        tmp = os.path.join(self.pkglibdir, "omnikpi.so.mutant")
        subprocess.run(["cp", so, tmp], check=True)
        os.chmod(tmp, 0o755)
        os.replace(tmp, os.path.join(self.pkglibdir, "omnikpi.so"))
        return True

    def regress(self, tests):
        """Runs pg_regress on tests in order; stops at the first failure.
        Returns ("passed", None), ("failed", test) or ("timeout", test)."""
        argv = ["make", "-s", "installcheck", "PG_CONFIG=" + self.pg_config, "REGRESS=" + " ".join(tests)]
        proc = subprocess.Popen(argv, cwd=self.src, env=self.env, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True, start_new_session=True)
        RUNNING.add(proc)
        lines = queue.Queue()

        def reader():
            for text in proc.stdout:
                lines.put(text)
            lines.put(None)
        threading.Thread(target=reader, daemon=True).start()
        deadline = time.time() + self.timeout
        current = None
        result = None
        while True:
            try:
                text = lines.get(timeout=max(0.1, deadline - time.time()))
            except queue.Empty:
                result = ("timeout", current)
                break
            if text is None:
                break
            m = re.match(r"^(?:test\s+)?\s*(\w+)\s+\.\.\.\s+(ok|FAILED|failed)", text.strip())
            if m:
                if m.group(2) != "ok":
                    result = ("failed", m.group(1))
                    break
                done = m.group(1)
                if done in tests and tests.index(done) + 1 < len(tests):
                    current = tests[tests.index(done) + 1]
            elif time.time() > deadline:
                result = ("timeout", current)
                break
        if result is None:
            proc.wait()
            RUNNING.discard(proc)
            return ("passed", None) if proc.returncode == 0 else ("failed", current or "installcheck")
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait()
        RUNNING.discard(proc)
        if result[0] == "timeout":
            self.restart()
        self.clean_cluster()
        return result


class Orderer:
    """The order to run the tests in for a mutant of a file: tests that killed
    mutants of that file first (most recent first), then the tests whose
    names share a word with the file's, then the fastest."""

    def __init__(self, tests, durations):
        self.tests = tests
        self.durations = durations
        self.killers = {}
        self.lock = threading.Lock()

    def order(self, path):
        words = set(re.split(r"[^a-z]+", os.path.splitext(path)[0].lower())) - {"", "src"}
        with self.lock:
            first = list(self.killers.get(path, []))
        rest = sorted((t for t in self.tests if t not in first),
                      key=lambda t: (not (words & set(t.split("_"))), self.durations.get(t, 0)))
        return first + rest

    def killed_by(self, path, test):
        with self.lock:
            lst = self.killers.setdefault(path, [])
            if test in lst:
                lst.remove(test)
            lst.insert(0, test)


def run_mutants(args):
    with open(args.jobs_file) as f:
        specs = json.load(f)
    root = specs[0]["src"]
    mutants = all_mutants(root, args.files)
    total_found = len(mutants)
    if args.sample and args.sample < len(mutants):
        mutants = random.Random(args.seed).sample(mutants, args.sample)
    # In a random order, so that a run stopped early (or the part of a run
    # done so far, in the log) is a fair sample too.
    mutants.sort(key=lambda m: (m.path, m.start, m.operator))
    random.Random(args.seed).shuffle(mutants)
    # Resume: what the log already holds is not run again.
    results = []
    if args.log and os.path.exists(args.log):
        with open(args.log) as f:
            done = {r["id"]: r for r in map(json.loads, f) if r}
        survivors = set()
        if args.retry_survivors:
            # after new tests: the survivors run again, first; the killed stay
            # killed, and the equivalent ones are known to pass
            known = load_equivalent()
            survivors = {i for i, r in done.items()
                         if r["status"] == "passed" and not equivalent_reason(r, known)}
            done = {i: r for i, r in done.items() if i not in survivors}
        ids = {m.id for m in mutants}
        results = [r for i, r in done.items() if i in ids]
        mutants = [m for m in mutants if m.id not in done]
        mutants.sort(key=lambda m: m.id not in survivors)
        if results:
            print("resuming: %d mutants already in %s" % (len(results), args.log), flush=True)
    signal.signal(signal.SIGTERM, stop_running)
    signal.signal(signal.SIGINT, stop_running)
    tests = args.tests.split()
    durations = json.loads(args.durations) if args.durations else {}
    jobs = [Job(s, tests, args.timeout) for s in specs]
    for job in jobs:
        job.baseline_roles = job.roles()
    orderer = Orderer(tests, durations)
    work = queue.Queue()
    for m in mutants:
        work.put(m)
    results_lock = threading.Lock()
    started = time.time()
    total = len(results) + len(mutants)
    log = open(args.log, "a") if args.log else None

    def worker(job):
        originals = {}
        while True:
            try:
                m = work.get_nowait()
            except queue.Empty:
                return
            target = os.path.join(job.src, m.path)
            if m.path not in originals:
                with open(target) as f:
                    originals[m.path] = f.read()
            original = originals[m.path]
            write_source(target, m.apply(original))
            header = m.path.endswith(".h")
            job.rebuild_all = job.rebuild_all or header
            t0 = time.time()
            if not job.build():
                status, test = "uncompilable", None
            else:
                job.rebuild_all = header
                status, test = job.regress(orderer.order(m.path))
                if status in ("failed", "timeout") and test:
                    orderer.killed_by(m.path, test)
            write_source(target, original)
            if header:
                job.rebuild_all = True
            record = {"id": m.id, "path": m.path, "line": m.line, "operator": m.operator,
                      "before": m.before, "after": m.after, "status": status, "test": test,
                      "seconds": round(time.time() - t0, 1)}
            with results_lock:
                results.append(record)
                done = len(results)
                if log:
                    log.write(json.dumps(record) + "\n")
                    log.flush()
            print("[%d/%d] %s:%d %s: %s%s" % (done, total, m.path, m.line, m.operator, status,
                                             " (%s)" % test if test else ""), flush=True)

    threads = [threading.Thread(target=worker, args=(job,), daemon=True) for job in jobs]
    for t in threads:
        t.start()
    # join with a timeout: a signal handler runs only when the main thread
    # gets back to Python code
    while any(t.is_alive() for t in threads):
        for t in threads:
            t.join(timeout=1)
    # Leave the installed module as the sources build it.
    for job in jobs:
        job.rebuild_all = True
        job.build()
    write_report(args, results, total_found, time.time() - started)
    return 0


def report_from_log(args):
    """The report of the mutants a log holds (a run stopped early)."""
    with open(args.log) as f:
        # a mutant run again (MUTATION_RETRY_SURVIVORS) counts as its last run
        results = list({r["id"]: r for r in map(json.loads, filter(str.strip, f))}.values())
    total_found = len(all_mutants(args.root, args.files))
    write_report(args, results, total_found, 0)
    return 0


def write_source(path, text):
    with open(path, "w") as f:
        f.write(text)
    # make compares times: a restore within the same clock tick as the
    # mutant's build must still look newer than the object.
    now = time.time()
    os.utime(path, (now + 1, now + 1))


# Surviving mutants explained as equivalent: no result can tell them from
# the original (a hash constant, a guard that a caller already made).  One
# per line, tab-separated: file name (without folders, so a move keeps it),
# operator, the line before, the line after, the reason; "*" as the operator
# and the line after stands for every mutant of that line (the lines of a
# hash function, say).
EQUIVALENT_FILE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "equivalent.tsv")


def load_equivalent():
    known = {}
    if os.path.exists(EQUIVALENT_FILE):
        with open(EQUIVALENT_FILE) as f:
            for line in f:
                if line.startswith("#") or not line.strip():
                    continue
                name, operator, before, after, reason = line.rstrip("\n").split("\t")
                known[(name, operator, before, after)] = reason
    return known


def equivalent_reason(r, known):
    if r["status"] != "passed":
        return None
    name = os.path.basename(r["path"])
    return (known.get((name, r["operator"], r["before"], r["after"])) or
            known.get((name, "*", r["before"], "*")))


def score(rows, known):
    """(mutants counted, killed, equivalent, score): mutants that do not
    compile are not counted, and equivalent ones are left out of the score."""
    counted = [r for r in rows if r["status"] != "uncompilable"]
    killed = sum(1 for r in counted if r["status"] in ("failed", "timeout"))
    equivalent = sum(1 for r in counted if equivalent_reason(r, known))
    scored = len(counted) - equivalent
    return len(counted), killed, equivalent, ("%.1f%%" % (100.0 * killed / scored)) if scored else "-"


def write_report(args, results, total_found, seconds):
    results.sort(key=lambda r: (r["path"], r["line"], r["operator"], r["id"]))
    lines = ["# Mutation testing of src/", "",
             "Produced by `%s` on commit %s, %s: %d of the %d mutants found were run "
             "(a random sample, seed %s)%s." % (args.command, args.commit, time.strftime("%Y-%m-%d"),
                                              len(results), total_found, args.seed,
                                              ", in %.0f minutes with %d job(s)" % (seconds / 60, args.jobs)
                                              if seconds else ""),
             "",
             "A mutant is killed when a pg_regress test fails against it (or it runs past the time "
             "limit); it survives when every test passes.  Mutants that do not compile are not counted; "
             "survivors explained as equivalent (test/mutation/equivalent.tsv) are left out of the score.",
             "", "| code | mutants | killed | equivalent | not killed | score |",
             "|---|---:|---:|---:|---:|---:|"]
    known = load_equivalent()
    groups = {}
    for r in results:
        groups.setdefault(group_of(r["path"]), []).append(r)
    for name in sorted(groups) + ["**all of src/**"]:
        n, k, e, s = score(results if name.startswith("**") else groups[name], known)
        lines.append("| %s | %d | %d | %d | %d | %s |" % (name, n, k, e, n - k - e, s))
    uncompilable = sum(1 for r in results if r["status"] == "uncompilable")
    timeouts = sum(1 for r in results if r["status"] == "timeout")
    lines += ["", "Mutants that did not compile: %d; killed by the time limit: %d." % (uncompilable, timeouts)]
    for title, key in (("By file", "path"), ("By operator", "operator")):
        lines += ["", "## " + title, "", "| %s | mutants | killed | equivalent | score |" % key,
                  "|---|---:|---:|---:|---:|"]
        by_key = {}
        for r in results:
            by_key.setdefault(r[key], []).append(r)
        for value in sorted(by_key):
            n, k, e, s = score(by_key[value], known)
            lines.append("| %s | %d | %d | %d | %s |" % (value, n, k, e, s))
    killers = {}
    for r in results:
        if r["status"] in ("failed", "timeout") and r["test"]:
            killers[r["test"]] = killers.get(r["test"], 0) + 1
    lines += ["", "## Tests that killed the most mutants", ""]
    for test, count in sorted(killers.items(), key=lambda kv: -kv[1])[:10]:
        lines.append("- %s: %d" % (test, count))
    survivors = [r for r in results if r["status"] == "passed" and not equivalent_reason(r, known)]
    lines += ["", "## Surviving mutants (%d)" % len(survivors), "",
              "Each is a test to write, or a change no result can show: then add it to "
              "test/mutation/equivalent.tsv with the reason.", ""]
    for r in survivors:
        lines.append("- `%s:%d` %s: `%s` → `%s`" % (r["path"], r["line"], r["operator"],
                                                   r["before"], r["after"]))
    equivalent = [r for r in results if equivalent_reason(r, known)]
    lines += ["", "## Equivalent mutants (%d)" % len(equivalent), ""]
    for r in equivalent:
        lines.append("- `%s:%d` %s: `%s` → `%s`: %s" % (r["path"], r["line"], r["operator"],
                                                       r["before"], r["after"], equivalent_reason(r, known)))
    text = "\n".join(lines) + "\n"
    with open(args.report, "w") as f:
        f.write(text)
    n, k, e, s = score(results, known)
    print("mutation score: %d of %d mutants killed, %d equivalent (%s); report: %s" % (k, n, e, s, args.report))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command_name", required=True)
    p_list = sub.add_parser("list", help="print the mutants")
    p_list.add_argument("--root", default=".")
    p_list.add_argument("--files", nargs="*", default=[])
    p_report = sub.add_parser("report", help="the report of the mutants in a log")
    p_report.add_argument("--root", default=".")
    p_report.add_argument("--files", nargs="*", default=[])
    p_report.add_argument("--log", required=True)
    p_report.add_argument("--report", required=True)
    p_report.add_argument("--seed", default="?")
    p_report.add_argument("--command", default="make mutation")
    p_report.add_argument("--commit", default="?")
    p_run = sub.add_parser("run", help="run the mutants")
    p_run.add_argument("--jobs-file", required=True)
    p_run.add_argument("--files", nargs="*", default=[])
    p_run.add_argument("--sample", type=int, default=0)
    p_run.add_argument("--seed", type=int, default=1)
    p_run.add_argument("--tests", required=True)
    p_run.add_argument("--durations", default="")
    p_run.add_argument("--timeout", type=float, default=300)
    p_run.add_argument("--report", required=True)
    p_run.add_argument("--log", default="")
    p_run.add_argument("--retry-survivors", action="store_true")
    p_run.add_argument("--command", default="make mutation")
    p_run.add_argument("--commit", default="?")
    p_run.add_argument("--jobs", type=int, default=1)
    args = parser.parse_args()
    if args.command_name == "list":
        mutants = all_mutants(args.root, args.files)
        for m in mutants:
            print("%s:%d\t%s\t%s\t->\t%s" % (m.path, m.line, m.operator, m.before, m.after))
        counts = {}
        for m in mutants:
            counts[m.operator] = counts.get(m.operator, 0) + 1
        print("%d mutants: %s" % (len(mutants), ", ".join("%s %d" % kv for kv in sorted(counts.items()))),
              file=sys.stderr)
        return 0
    if args.command_name == "report":
        return report_from_log(args)
    return run_mutants(args)


if __name__ == "__main__":
    sys.exit(main())
