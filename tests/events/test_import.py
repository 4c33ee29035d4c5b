from __future__ import annotations

import gzip
import json
from datetime import datetime
from pathlib import Path

import pytest

from journeykit.engine.workspace import import_files
from journeykit.events.errors import ColumnMappingError, EventFileError, StrictImportError
from journeykit.events.importer import ImportOptions
from journeykit.events.sources import column_map
from journeykit.workspace import Workspace

from .conftest import db_rows, snapshot

HEADER = "customer_id,event,timestamp,value,plan\n"


def write(tmp_path: Path, name: str, text: str | bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode() if isinstance(text, str) else text)
    return path


def rejected(ws: Workspace) -> list[tuple[object, ...]]:
    return db_rows(ws, "SELECT line, field, reason FROM rejected ORDER BY line")


def test_each_bad_row_is_rejected_with_its_line_and_reason(ws: Workspace, tmp_path: Path) -> None:
    body = (
        (
            HEADER
            + 'a,signup,2024-01-01,,"multi\nline note"\n'  # lines 2-3: good, quoted newline
            + ",signup,2024-01-01,,\n"  # 4 missing customer id
            + "b,,2024-01-01,,\n"  # 5 missing event
            + "c,signup,not a time,,\n"  # 6 unparseable timestamp
            + "d,buy,2024-01-02,12.5,pro,extra\n"  # 7 wrong number of fields
            + "e,buy,2024-01-02,abc,\n"  # 8 non-numeric value
            + 'f,buy,2024-01-02,1,"pro"x"\n'  # 9 broken quoting
        ).encode()
        + b"g,buy,2024-01-02,1,\xff\xfe\n"
        + b"h,buy,2024-01-03,2,basic\n"
    )  # 10 bad UTF-8
    path = write(tmp_path, "bad.csv", body)
    (report,) = import_files(ws, [path])
    assert rejected(ws) == [
        (4, "customer_id", "missing customer id"),
        (5, "event", "missing event"),
        (6, "timestamp", "unparseable timestamp"),
        (7, "", "wrong number of fields (expected 5, found 6)"),
        (8, "value", "non-numeric value"),
        (9, "plan", "broken quoting"),
        (10, "plan", "invalid UTF-8"),
    ]
    assert (report.read, report.loaded, report.duplicates, report.rejected) == (9, 2, 0, 7)
    assert db_rows(ws, "SELECT customer_id, source_row FROM events ORDER BY 2") == [
        ("a", 2),
        ("h", 11),
    ]
    assert report.rejected_file is not None and report.rejected_file.is_file()
    assert "missing customer id" in report.rejected_file.read_text()


def test_counts_add_up_and_duplicates_stay_out(ws: Workspace, tmp_path: Path) -> None:
    rows = "a,open,2024-01-01 10:00:00,,x\n" * 3 + "b,open,2024-01-01 10:00:00,,x\n,bad,,,\n"
    (report,) = import_files(ws, [write(tmp_path, "d.csv", HEADER + rows)])
    assert report.read == report.loaded + report.duplicates + report.rejected
    assert (report.read, report.loaded, report.duplicates, report.rejected) == (5, 2, 2, 1)
    # The same events in another file are duplicates of what is stored.
    (again,) = import_files(ws, [write(tmp_path, "e.csv", HEADER + rows + "c,open,2024-01-02,,\n")])
    assert (again.loaded, again.duplicates) == (1, 4)


def test_reimport_changes_nothing_and_replace_reloads(ws: Workspace, tmp_path: Path) -> None:
    path = write(tmp_path, "e.csv", HEADER + "a,open,2024-01-01,,x\nb,open,2024-01-01,,x\n")
    import_files(ws, [path])
    before = snapshot(ws)
    (again,) = import_files(ws, [path])
    assert again.already_imported and again.loaded == 0 and again.duplicates == 2
    assert snapshot(ws) == before
    path.write_text(HEADER + "a,open,2024-01-01,,x\nc,open,2024-01-05,,y\n")
    (replaced,) = import_files(ws, [path], ImportOptions(replace=True))
    assert replaced.loaded == 2
    assert db_rows(ws, "SELECT customer_id FROM events ORDER BY 1") == [("a",), ("c",)]


def test_strict_refuses_the_whole_import(ws: Workspace, tmp_path: Path) -> None:
    path = write(tmp_path, "s.csv", HEADER + "a,open,2024-01-01,,\n,open,2024-01-01,,\n")
    with pytest.raises(StrictImportError, match=r"s\.csv:3: customer_id: missing customer id"):
        import_files(ws, [path], ImportOptions(strict=True))
    assert db_rows(ws, "SELECT count(*) FROM events") == [(0,)]


def test_strict_fails_on_a_file_already_imported_with_rejects(
    ws: Workspace, tmp_path: Path
) -> None:
    """--strict promises a clean file; a re-import of one loaded earlier with rejects breaks it."""
    path = write(tmp_path, "s.csv", HEADER + "a,open,2024-01-01,,\n,open,2024-01-01,,\n")
    (first,) = import_files(ws, [path])
    clean = write(tmp_path, "clean.csv", HEADER + "b,open,2024-01-01,,\n")
    before = snapshot(ws)
    with pytest.raises(StrictImportError) as caught:
        import_files(ws, [clean, path], ImportOptions(strict=True))
    message = str(caught.value)
    assert "s.csv: imported earlier with 1 row(s) rejected and --strict is on" in message
    assert f"see {first.rejected_file}" in message and "s.csv:3: customer_id: missing" in message
    assert snapshot(ws) == before  # the clean file in the same run is not imported either
    (again,) = import_files(ws, [clean], ImportOptions(strict=True))  # a clean re-import is fine
    assert again.loaded == 1
    (same,) = import_files(ws, [clean], ImportOptions(strict=True))
    assert same.already_imported


def _parquet(columns: dict[str, list[object]]) -> bytes:
    import io

    import pyarrow as pa
    import pyarrow.parquet as pq

    out = io.BytesIO()
    pq.write_table(pa.table(columns), out)
    return out.getvalue()


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("empty.csv", b"", r"empty\.csv: the file is empty"),
        ("blank.csv", b"\n\n \n", r"blank\.csv: the file is empty"),
        ("header.csv", HEADER.encode(), r"header\.csv: no rows: the file has a header but no events"),
        ("binary.csv", bytes(range(256)) * 10, r"binary\.csv: this looks like a binary file"),
        ("wrong.csv", b"who,what\n1,2\n", r"wrong\.csv: no column 'customer_id' for --customer-id"),
        ("twice.csv", b"a,a\n1,2\n", r"twice\.csv:1: column 'a' appears twice in the header"),
        ("latin1.csv", b"customer_id,\xe9vent\n", r"latin1\.csv:1: invalid UTF-8 in the header"),
        ("broken.csv.gz", b"\x1f\x8b\x08not really gzip", r"broken\.csv\.gz: cannot be read"),
        ("empty.jsonl", b"", r"empty\.jsonl: the file is empty"),
        ("arrays.jsonl", b"[1]\n[2]\n", r"arrays\.jsonl: no JSON objects in the first 10,000 lines"),
        ("text.parquet", b"customer_id,event\n", r"text\.parquet: not a readable Parquet file"),
        ("wrong.parquet", _parquet({"who": ["a"], "what": ["b"]}),
         r"wrong\.parquet: no column 'customer_id' for --customer-id"),
        ("no_rows.parquet", _parquet({"customer_id": [], "event": [], "timestamp": []}),
         r"no_rows\.parquet: no rows"),
    ],
)  # fmt: skip
def test_unusable_files_fail_clearly_and_change_nothing(
    ws: Workspace, tmp_path: Path, name: str, content: bytes, message: str
) -> None:
    import_files(ws, [write(tmp_path, "ok.csv", HEADER + "a,open,2024-01-01,,\n,x,y,,\n")])
    before = snapshot(ws)
    files = sorted((ws.root / "rejected").iterdir())
    with pytest.raises((EventFileError, ColumnMappingError), match=message):
        import_files(ws, [write(tmp_path, name, content)])
    assert snapshot(ws) == before
    assert sorted((ws.root / "rejected").iterdir()) == files


def test_one_bad_file_among_several_imports_none(ws: Workspace, tmp_path: Path) -> None:
    good = write(tmp_path, "good.csv", HEADER + "a,open,2024-01-01,,\n")
    with pytest.raises(EventFileError, match="empty"):
        import_files(ws, [good, write(tmp_path, "empty.csv", b"")])
    assert snapshot(ws) == ((), (), ())


def test_bad_parquet_and_json_rows_name_their_row(ws: Workspace, tmp_path: Path) -> None:
    """Parquet rows are numbered from 1 (no header); JSON lines by their line."""
    parquet = write(tmp_path, "e.parquet", _parquet({
        "customer_id": ["a", None, "c"], "event": ["open", "open", None],
        "timestamp": ["2024-01-01", "2024-01-01", "2024-01-01"],
    }))  # fmt: skip
    jsonl = write(tmp_path, "e.jsonl", '{"customer_id":"d","event":"x","timestamp":"2024-01-01"}\n'
                  '{"customer_id":"e","event":"x","timestamp":"soon"}\n{"customer_id":\n')  # fmt: skip
    import_files(ws, [parquet, jsonl])
    got = db_rows(ws, "SELECT regexp_extract(source, '[^/]+$'), line, field, reason FROM rejected "
                      "ORDER BY 1, 2")  # fmt: skip
    assert got == [
        ("e.jsonl", 2, "timestamp", "unparseable timestamp"),
        ("e.jsonl", 3, "line", "not a JSON object"),
        ("e.parquet", 2, "customer_id", "missing customer id"),
        ("e.parquet", 3, "event", "missing event"),
    ]
    assert db_rows(ws, "SELECT customer_id, source_row FROM events ORDER BY 1") == [
        ("a", 1),
        ("d", 1),
    ]


def test_typed_values_read_as_their_text_would(tmp_path: Path) -> None:
    """A numeric Parquet (or database) column is read as it is, not through its text: the same
    events and the same refusals (NaN, infinities) as the text of the same numbers in a CSV."""
    import pyarrow as pa

    from journeykit.workspace import create_workspace

    numbers = [1.5, float("nan"), float("inf"), None, -0.0, 1e300, 0.1 + 0.2, 2.0**60 + 1]
    ints = [1, -2, None, 2**62 + 1, 0, 7, 9_007_199_254_740_993, 3]
    for values, kind in ((numbers, pa.float64()), (ints, pa.int64()), (ints, pa.int32())):
        if kind == pa.int32():
            values = [v if v is None or abs(v) < 2**31 else 5 for v in values]
        n = len(values)
        parquet = write(tmp_path, "v.parquet", _parquet({
            "customer_id": [f"c{i}" for i in range(n)], "event": ["buy"] * n,
            "timestamp": ["2024-01-01"] * n, "value": pa.array(values, kind),
        }))  # fmt: skip
        text = "".join(
            f"c{i},buy,2024-01-01,{'' if v is None else repr(v)}\n" for i, v in enumerate(values)
        )
        csv = write(tmp_path, "v.csv", "customer_id,event,timestamp,value\n" + text)
        got = []
        for i, path in enumerate((parquet, csv)):
            w = create_workspace(tmp_path / f"ws-{kind}-{i}", template="saas-trial")
            import_files(w, [path])
            got.append((
                db_rows(w, "SELECT customer_id, value FROM events ORDER BY 1"),
                db_rows(w, "SELECT line, field, reason FROM rejected ORDER BY 1"),
            ))  # fmt: skip
        assert got[0][0] == got[1][0], kind
        # CSV lines count the header; Parquet rows do not.
        assert [(line - 1, f, r) for line, f, r in got[1][1]] == got[0][1], kind
    assert [r[2] for r in got[0][1]] == []  # integers: nothing refused


def test_timestamp_forms_and_time_zones(ws: Workspace, tmp_path: Path) -> None:
    stamps = [
        "2024-03-01T09:30:00+02:00",
        "2024-03-01 09:30:00Z",
        "2024-03-01T09:30:00",
        "2024-03-01",
        "1709285400",
        "1709285400123",
        "2024-07-01 12:00:00",
    ]
    body = "customer_id,event,timestamp\n" + "".join(f"c{i},e,{s}\n" for i, s in enumerate(stamps))
    path = write(tmp_path, "t.csv", body)
    import_files(ws, [path], ImportOptions(timezone="Europe/Berlin"))
    got = dict(db_rows(ws, "SELECT customer_id, timestamp FROM events"))
    assert got == {
        "c0": datetime(2024, 3, 1, 7, 30),  # offset given: converted
        "c1": datetime(2024, 3, 1, 9, 30),
        "c2": datetime(2024, 3, 1, 8, 30),  # naive: Berlin winter time, UTC+1
        "c3": datetime(2024, 2, 29, 23, 0),
        "c4": datetime(2024, 3, 1, 9, 30),  # epoch seconds
        "c5": datetime(2024, 3, 1, 9, 30, 0, 123000),  # epoch milliseconds
        "c6": datetime(2024, 7, 1, 10, 0),  # Berlin summer time, UTC+2
    }


def test_presets_gzip_and_json_lines(ws: Workspace, tmp_path: Path) -> None:
    segment = tmp_path / "segment.csv.gz"
    with gzip.open(segment, "wt") as fh:
        fh.write('userId,anonymousId,event,timestamp,properties\n,anon1,Viewed,2024-01-01,"{}"\n')
        fh.write('u2,anon2,Bought,2024-01-02,"{""plan"":""pro""}"\n')
    (report,) = import_files(ws, [segment], ImportOptions(mapping=column_map(preset="segment")))
    assert report.loaded == 2
    posthog = tmp_path / "posthog.jsonl"
    lines = [
        {"distinct_id": "p1", "event": "$pageview", "timestamp": "2024-01-03T00:00:00Z",
         "properties": {"path": "/"}},
        {"distinct_id": "p2", "event": "signup", "timestamp": 1704326400, "properties": []},
    ]  # fmt: skip
    posthog.write_text("\n".join(json.dumps(x) for x in lines) + "\nnot json\n")
    (report,) = import_files(ws, [posthog], ImportOptions(mapping=column_map(preset="posthog")))
    assert (report.loaded, report.rejected) == (1, 2)
    assert db_rows(ws, "SELECT customer_id, properties FROM events ORDER BY 1") == [
        ("anon1", "{}"),
        ("p1", '{"path":"/"}'),
        ("u2", '{"plan":"pro"}'),
    ]
    assert db_rows(ws, "SELECT line, reason FROM rejected ORDER BY line") == [
        (2, "properties is not a JSON object"),
        (3, "not a JSON object"),
    ]


def test_json_lines_fields_are_read_by_their_literal_names(ws: Workspace, tmp_path: Path) -> None:
    """A mapped field named like a JSON path (`$time`, `a.b`, `*`) is that field, not a path."""
    path = tmp_path / "e.jsonl"
    line = {"$distinct_id": "p1", "event": "x", "$time": "2024-01-03", "a.b": 7, "*": {"k": 1},
            "distinct_id": "wrong", "time": "1999-01-01", "a": {"b": 1}}  # fmt: skip
    path.write_text(json.dumps(line) + "\n")
    mapping = column_map(customer_id="$distinct_id", timestamp="$time", value="a.b", properties="*")
    (report,) = import_files(ws, [path], ImportOptions(mapping=mapping))
    assert report.loaded == 1
    assert db_rows(ws, "SELECT customer_id, timestamp, value, properties FROM events") == [
        ("p1", datetime(2024, 1, 3), 7.0, '{"k":1}')
    ]


def test_remaining_columns_become_properties(ws: Workspace, tmp_path: Path) -> None:
    path = write(
        tmp_path, "p.csv", "customer_id,event,timestamp,plan,seats\na,buy,2024-01-01,pro,\n"
    )
    import_files(ws, [path])
    assert db_rows(ws, "SELECT properties FROM events") == [('{"plan":"pro"}',)]


BLANKS_AND_BAD_ROWS = (
    "customer_id,event,timestamp\n"  # 1
    "a,open,2024-01-01\n"  # 2
    "\n"  # 3 blank: skipped, still a line
    "b,open,2024-01-01\n"  # 4
    ",open,2024-01-01\n"  # 5 missing customer id
    "\n"  # 6
    "\n"  # 7
    "c,open,2024-01-01,extra\n"  # 8 wrong number of fields
    'd,"two\n'  # 9 a record that starts on line 9 ...
    'lines",2024-01-01\n'  # 10 ... and ends on line 10
    "\n"  # 11
    "e,open,never\n"  # 12 unparseable timestamp
    'g,"x\n'  # 13 a quoted field holding a blank line: part of the record, not skipped
    "\n"  # 14
    'y",2024-01-03\n'  # 15
    "f,open,2024-01-02\n"  # 16
    "\n"  # 17 trailing blank line
)


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_line_numbers_are_physical_lines_after_blank_lines(
    ws: Workspace, tmp_path: Path, newline: str
) -> None:
    """A record's line is the physical line where it starts, counting blank lines."""
    text = BLANKS_AND_BAD_ROWS.replace("\n", newline)
    (report,) = import_files(ws, [write(tmp_path, "blank.csv", text.encode())])
    assert rejected(ws) == [
        (5, "customer_id", "missing customer id"),
        (8, "", "wrong number of fields (expected 3, found 4)"),
        (12, "timestamp", "unparseable timestamp"),
    ]
    assert db_rows(ws, "SELECT customer_id, source_row FROM events ORDER BY 2") == [
        ("a", 2),
        ("b", 4),
        ("d", 9),
        ("g", 13),
        ("f", 16),
    ]
    assert (report.read, report.loaded, report.rejected) == (8, 5, 3)


def test_replace_swaps_rows_history_and_rejects_atomically(ws: Workspace, tmp_path: Path) -> None:
    path = write(tmp_path, "e.csv", HEADER + "a,open,2024-01-01,,x\n,open,2024-01-01,,\n")
    (first,) = import_files(ws, [path])
    assert first.rejected_file is not None and first.rejected_file.is_file()
    # A changed file with a bad row under --strict: the replace fails, the old import stays.
    path.write_text(HEADER + "b,open,2024-01-02,,y\nc,open,never,,\n")
    before = snapshot(ws)
    with pytest.raises(StrictImportError):
        import_files(ws, [path], ImportOptions(replace=True, strict=True))
    assert snapshot(ws) == before and first.rejected_file.is_file()
    (second,) = import_files(ws, [path], ImportOptions(replace=True))
    assert (second.loaded, second.rejected, second.already_imported) == (1, 1, False)
    assert db_rows(ws, "SELECT customer_id, import_id FROM events") == [("b", second.import_id)]
    assert db_rows(ws, "SELECT import_id, line, reason FROM rejected") == [
        (second.import_id, 3, "unparseable timestamp")
    ]
    history = db_rows(ws, "SELECT import_id, loaded, replaced_by FROM imports ORDER BY imported_at")
    assert history == [(first.import_id, 1, second.import_id), (second.import_id, 1, None)]
    # The replaced import's rejects file goes with its rows.
    assert not first.rejected_file.exists()
    assert second.rejected_file is not None and second.rejected_file.is_file()
    # The same file once more: nothing changes, and the report says so.
    after = snapshot(ws)
    (third,) = import_files(ws, [path])
    assert (third.already_imported, third.loaded, third.duplicates) == (True, 0, 1)
    assert "already imported, nothing changed" in third.summary()
    assert snapshot(ws) == after


def test_the_hash_taken_while_reading_is_the_files_sha256(ws: Workspace, tmp_path: Path) -> None:
    import hashlib

    path = write(tmp_path, "e.csv", HEADER + "a,open,2024-01-01,,x\n")
    other = write(tmp_path, "f.csv", HEADER + "b,open,2024-01-01,,x\n")  # same size
    import_files(ws, [path])  # nothing imported yet: hashed while read
    (second,) = import_files(ws, [other])  # an import of that size exists: hashed first
    assert not second.already_imported and second.loaded == 1
    assert db_rows(ws, "SELECT sha256, size FROM imports ORDER BY imported_at") == [
        (hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_size) for p in (path, other)
    ]


def test_a_failed_read_stops_the_hash_running_alongside(tmp_path: Path) -> None:
    import threading

    from journeykit.events.importer import _Stopped, fingerprint

    path = write(tmp_path, "e.csv", HEADER + "a,open,2024-01-01,,x\n")
    stop = threading.Event()
    stop.set()
    with pytest.raises(_Stopped):
        fingerprint(path, stop)


def test_timestamps_no_analysis_can_handle_are_rejected_with_the_reason(
    ws: Workspace, tmp_path: Path
) -> None:
    odd = ["infinity", "inf", "-infinity", "epoch", "2024-03-01T09:30:00+25:00",  # unparseable
           "10000-01-01", "294247-01-10", "0000-01-01", "8999999999999999", "-62135596801"]  # fmt: skip
    edges = ["0001-01-01", "9999-12-31 23:59:59.999999", "2024-03-01T09:30:00-23:59"]
    body = "customer_id,event,timestamp\n" + "".join(f"c,e,{t}\n" for t in [*edges, *odd])
    (report,) = import_files(ws, [write(tmp_path, "t.csv", body)])
    out_of_range = "timestamp out of range (years 1 to 9999)"
    assert rejected(ws) == [(5 + i, "timestamp", "unparseable timestamp") for i in range(5)] + [
        (10 + i, "timestamp", out_of_range) for i in range(5)
    ]
    assert (report.loaded, report.rejected) == (3, 10)


def test_a_row_failing_several_checks_gets_the_first_ones_reason_and_field(
    ws: Workspace, tmp_path: Path
) -> None:
    """Reason and field come from the same (first) failing test, whatever else also fails;
    the columns are named unlike their reasons so a field taken from another test shows."""
    body = (
        "who,what,when,amount,extra\n"
        ",,2024-01-01,x,[]\n"  # 2: every test after the first fails too
        "a,,nope,x,[]\n"  # 3
        "a,buy,nope,x,[]\n"  # 4
        "a,buy,10000-01-01,x,[]\n"  # 5
        "a,buy,2024-01-01,x,[]\n"  # 6
        "a,buy,2024-01-01,1,[]\n"  # 7
        "a,buy,2024-01-01,1,{}\n"  # 8: kept
    )
    mapping = column_map(
        customer_id="who", event="what", timestamp="when", value="amount", properties="extra"
    )
    (report,) = import_files(
        ws, [write(tmp_path, "many.csv", body)], ImportOptions(mapping=mapping)
    )
    assert rejected(ws) == [
        (2, "who", "missing customer id"),
        (3, "what", "missing event"),
        (4, "when", "unparseable timestamp"),
        (5, "when", "timestamp out of range (years 1 to 9999)"),
        (6, "amount", "non-numeric value"),
        (7, "extra", "properties is not a JSON object"),
    ]
    assert db_rows(ws, "SELECT raw FROM rejected ORDER BY line")[0] == (",,2024-01-01,x,[]",)
    assert (report.loaded, report.rejected) == (1, 6)


def test_extra_checks_come_after_the_others_and_keep_their_own_field() -> None:
    """A database source's own check (a missing key) is the reason only when nothing before it
    fails; the kept rows of a filtered pull are the unrefused ones (the filter stays correct
    whether or not DuckDB pushes it below the typing)."""
    import duckdb
    import pyarrow as pa

    from journeykit.events.clean import typed_sql
    from journeykit.events.sources import ColumnMap, Scan, resolve

    rows = pa.table({
        "_ord": [1, 2, 3, 4], "k": [None, None, 3, 4], "customer_id": ["a", None, "c", "d"],
        "event": ["e", "e", None, "e"], "timestamp": [1.7e9] * 4,
    })  # fmt: skip
    columns = {"k": "BIGINT", "customer_id": "VARCHAR", "event": "VARCHAR", "timestamp": "DOUBLE"}
    scan = Scan(Path("s"), "table", columns, "SELECT * FROM rows")
    m = resolve(ColumnMap(), list(columns), "s")
    sql = typed_sql(scan, m, "UTC", checks=[('"k" IS NULL', "missing key", "k")], row_hash=False)
    con = duckdb.connect()
    con.register("rows", rows)
    got = con.execute(f"SELECT _ord, reason, field, raw IS NULL FROM ({sql}) ORDER BY 1").fetchall()
    assert got == [
        (1, "missing key", "k", False),
        (2, "missing customer id", "customer_id", False),
        (3, "missing event", "event", False),
        (4, None, None, True),
    ]
    for test, want in (("IS NULL", [4]), ("IS NOT NULL", [1, 2, 3])):
        kept = con.execute(f"SELECT _ord FROM ({sql}) k WHERE k.reason {test} ORDER BY 1")
        assert [r[0] for r in kept.fetchall()] == want


def test_only_empty_and_all_space_values_are_blank() -> None:
    """Blank (refused as missing) is '' or spaces only: not tabs, other white space or
    control characters, which sort before a space or just after it."""
    import duckdb

    from journeykit.events.clean import _blank_is_null

    values = ["", " ", "   ", "\t", " \t", "\x00", "\x1f", "!", " !", "\xa0", "\u3000", "a", " a "]
    con = duckdb.connect()
    got = con.execute(
        f"SELECT x, {_blank_is_null('x')} FROM unnest($v) AS t(x)", {"v": values}
    ).fetchall()
    assert [x for x, kept in got if kept is None] == ["", " ", "   "]
    assert all(kept == x for x, kept in got if kept is not None)
