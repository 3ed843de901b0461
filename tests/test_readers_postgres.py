"""read_omop against a PostgreSQL server started and stopped by the test (skipped without one).

The server runs from a fresh data folder on the loopback address; as root, it runs as the
``postgres`` system user, since PostgreSQL refuses to run as root.
"""

import getpass
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pandas as pd
import pytest

from skmed2vec import read_omop, read_omop_ancestors

pytest.importorskip("psycopg")
sqlalchemy = pytest.importorskip("sqlalchemy")


def _binary(name):
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"))
    return str(candidates[-1]) if candidates else None


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def postgres_url():
    initdb, pg_ctl = _binary("initdb"), _binary("pg_ctl")
    if initdb is None or pg_ctl is None:
        pytest.skip("PostgreSQL is not installed")
    prefix = []
    user = getpass.getuser()
    if os.geteuid() == 0:
        if shutil.which("runuser") is None:
            pytest.skip("PostgreSQL cannot run as root and runuser is missing")
        prefix, user = ["runuser", "-u", "postgres", "--"], "postgres"
    # Not under pytest's temporary root, which only its owner may enter.
    folder = Path(tempfile.mkdtemp(prefix="skmed2vec-postgres-"))
    os.chmod(folder, 0o777)
    data = folder / "data"
    port = _free_port()

    def run(*args):
        subprocess.run([*prefix, *args], check=True, capture_output=True, timeout=60)

    run(initdb, "-D", str(data), "-U", user, "--auth=trust", "-E", "UTF8")
    options = f"-c listen_addresses=127.0.0.1 -c port={port} -c unix_socket_directories={folder}"
    run(pg_ctl, "-D", str(data), "-o", options, "-l", str(folder / "log"), "-w", "start")
    try:
        url = f"postgresql+psycopg://{user}@127.0.0.1:{port}/postgres"
        engine = sqlalchemy.create_engine(url)
        for _ in range(50):
            try:
                with engine.connect():
                    break
            except sqlalchemy.exc.OperationalError:
                time.sleep(0.1)
        engine.dispose()
        yield url
    finally:
        run(pg_ctl, "-D", str(data), "-m", "fast", "-w", "stop")
        shutil.rmtree(folder, ignore_errors=True)


def test_a_postgres_cdm_gives_the_events_of_its_export(postgres_url, tmp_path):
    concept = pd.DataFrame(
        {
            "concept_id": [192671, 3004410, 1, 2],
            "vocabulary_id": ["SNOMED", "LOINC", "SNOMED", "SNOMED"],
            "concept_code": ["74474003", "4548-4", "2704003", "64572001"],
        }
    )
    conditions = pd.DataFrame(
        {
            "person_id": [1, 1, 2],
            "condition_concept_id": [192671, 0, 192671],
            "condition_start_date": pd.to_datetime(["2019-05-01", "2019-06-01", "2020-01-01"]),
        }
    )
    # CDM tools write upper-case (quoted) names too: this table has them.
    measurement = pd.DataFrame(
        {
            "PERSON_ID": [2, 3],
            "MEASUREMENT_CONCEPT_ID": [3004410, 3004410],
            "MEASUREMENT_DATE": pd.to_datetime(["2020-02-02", "2021-03-03"]),
            "VALUE_AS_NUMBER": [6.5, None],
        }
    )
    ancestor = pd.DataFrame(
        {
            "ancestor_concept_id": [1, 2],
            "descendant_concept_id": [192671, 192671],
            "min_levels_of_separation": [1, 2],
        }
    )
    tables = {
        "concept": concept,
        "condition_occurrence": conditions,
        "MEASUREMENT": measurement,
        "concept_ancestor": ancestor,
    }
    engine = sqlalchemy.create_engine(postgres_url)
    try:
        with engine.begin() as connection:
            connection.exec_driver_sql("CREATE SCHEMA cdm")
        for name, frame in tables.items():
            frame.to_sql(name, engine, schema="cdm", index=False)
            frame.to_parquet(tmp_path / f"{name.lower()}.parquet", index=False)
        table_names = ["condition_occurrence", "measurement"]
        from_server = read_omop(postgres_url, tables=table_names, schema="cdm")
        from_engine = read_omop(engine, tables=table_names, schema="cdm")
        ancestors = read_omop_ancestors(postgres_url, schema="cdm")
    finally:
        engine.dispose()
    from_export = read_omop(tmp_path, tables=table_names)
    assert from_server["code"].tolist() == [
        "SNOMED/74474003",
        "SNOMED/74474003",
        "LOINC/4548-4",
        "LOINC/4548-4",
    ]
    pd.testing.assert_frame_equal(from_server, from_export)
    pd.testing.assert_frame_equal(from_engine, from_export)
    pd.testing.assert_frame_equal(ancestors, read_omop_ancestors(tmp_path))
    with pytest.raises(ValueError, match="no 'drug_exposure' table"):
        read_omop(postgres_url, tables=["drug_exposure"], schema="cdm")
