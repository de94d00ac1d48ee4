#!/usr/bin/env bash
# record-expected.sh — re-records the oracle transcripts of the key cases in
# Tests/Fixtures/oracle/expected/ (for humans debugging the engine; the tests
# always run the oracle live).  Promises: only files in expected/ change.
set -euo pipefail
cd "$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
export PATH="/opt/swift/usr/bin:$PATH"
ORACLE_RECORD=1 swift test --filter 'OracleTests.GoldenTranscripts'
git status --short Tests/Fixtures/oracle/expected || true
