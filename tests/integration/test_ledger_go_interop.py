"""The ledger read by code nobody here wrote: Go's golang.org/x/mod/sumdb/note and sumdb/tlog.

A real service on loopback serves the ledger; a Go program (Debian's golang-go and
golang-golang-x-mod-dev, GOPATH mode, nothing downloaded) opens the checkpoint, extension lines
and witness cosignature included, with note.Open; reads the C2SP tlog-tiles with
tlog.TileHashReader (which checks every tile against the signed root); recomputes the root with
tlog.TreeHash; checks facegate's inclusion and consistency proofs with tlog.CheckRecord and
tlog.CheckTree and rebuilds them with tlog.ProveRecord and tlog.ProveTree; and hashes every
entry bundle's records against the level-0 tiles. Skipped, saying why, without Go.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from facegate.api.app import create_app
from facegate.gate import Gate
from facegate.ledger.events import Event, Kind
from facegate.ledger.witness import Witness

GOPATH = Path("/usr/share/gocode")
NEEDED = GOPATH / "src/golang.org/x/mod/sumdb/tlog"

GO_PROGRAM = r"""
package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

type input struct {
	Base        string              `json:"base"`
	Vkey        string              `json:"vkey"`
	Cosigned    string              `json:"cosigned"`
	Proofs      map[string][]string `json:"proofs"`
	OldSize     int64               `json:"old_size"`
	OldRoot     string              `json:"old_root"`
	Consistency []string            `json:"consistency"`
}

func fail(format string, args ...interface{}) {
	fmt.Printf("FAIL "+format+"\n", args...)
	os.Exit(1)
}

func get(url string) []byte {
	resp, err := http.Get(url)
	if err != nil || resp.StatusCode != 200 {
		fail("GET %s: %v %v", url, err, resp)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return data
}

type tiles struct{ base string }

func (t tiles) Height() int { return 8 }
func (t tiles) SaveTiles([]tlog.Tile, [][]byte) {}
func (t tiles) ReadTiles(ts []tlog.Tile) ([][]byte, error) {
	out := make([][]byte, len(ts))
	for i, tile := range ts {
		// Go names tiles tile/<H>/<L>/<N>; C2SP tlog-tiles fixes H = 8 and leaves it out.
		out[i] = get(t.base + "/" + strings.Replace(tile.Path(), "tile/8/", "tile/", 1))
	}
	return out, nil
}

func hashes(hexes []string) []tlog.Hash {
	out := make([]tlog.Hash, len(hexes))
	for i, h := range hexes {
		var b []byte
		fmt.Sscanf(h, "%x", &b)
		copy(out[i][:], b)
	}
	return out
}

func open(text []byte, v note.Verifier) (tlog.Tree, []string) {
	n, err := note.Open(text, note.VerifierList(v))
	if err != nil {
		fail("note.Open: %v", err)
	}
	lines := strings.Split(strings.TrimSuffix(n.Text, "\n"), "\n")
	size, err := strconv.ParseInt(lines[1], 10, 64)
	root, err2 := tlog.ParseHash(lines[2])
	if err != nil || err2 != nil || lines[0] != v.Name() {
		fail("checkpoint text %q", n.Text)
	}
	fmt.Printf("OK note.Open %s size %d, %d extension line(s), %d signature(s) ignored\n",
		lines[0], size, len(lines)-3, len(n.UnverifiedSigs))
	return tlog.Tree{N: size, Hash: root}, lines[3:]
}

func main() {
	raw, _ := os.ReadFile(os.Args[1])
	var in input
	if err := json.Unmarshal(raw, &in); err != nil {
		fail("input: %v", err)
	}
	v, err := note.NewVerifier(in.Vkey)
	if err != nil {
		fail("NewVerifier: %v", err)
	}
	tree, ext := open(get(in.Base+"/checkpoint"), v)
	if len(ext) == 0 || !strings.HasPrefix(ext[0], "facegate/index/v1 ") {
		fail("no index line: %q", ext)
	}
	cosigned, _ := open([]byte(in.Cosigned), v)
	if cosigned != tree {
		fail("the cosigned checkpoint is another tree")
	}
	reader := tlog.TileHashReader(tree, tiles{in.Base})
	th, err := tlog.TreeHash(tree.N, reader)
	if err != nil || th != tree.Hash {
		fail("TreeHash from tiles: %v %v", th, err)
	}
	fmt.Printf("OK tlog.TreeHash over the tiles equals the signed root\n")
	leaves, _ := reader.ReadHashes(indexes(tree.N))
	n := int64(0)
	for start := int64(0); start < tree.N; start += 256 {
		w := tree.N - start
		path := tlog.Tile{H: 8, L: -1, N: start / 256, W: 256}
		if w < 256 {
			path.W = int(w)
		}
		entries := strings.Replace(path.Path(), "tile/8/data/", "tile/entries/", 1)
		bundle := get(in.Base + "/" + entries)
		for len(bundle) > 0 {
			size := int(bundle[0])<<8 | int(bundle[1])
			if tlog.RecordHash(bundle[2:2+size]) != leaves[n] {
				fail("entry %d does not hash to its tile hash", n)
			}
			bundle, n = bundle[2+size:], n+1
		}
	}
	if n != tree.N {
		fail("entry bundles hold %d entries, want %d", n, tree.N)
	}
	fmt.Printf("OK %d entries from the entry bundles hash to the level-0 tiles\n", n)
	for key, proof := range in.Proofs {
		i, _ := strconv.ParseInt(key, 10, 64)
		if err := tlog.CheckRecord(hashes(proof), tree.N, tree.Hash, i, leaves[i]); err != nil {
			fail("CheckRecord %d: %v", i, err)
		}
		rebuilt, err := tlog.ProveRecord(tree.N, i, reader)
		if err != nil || !equal(rebuilt, hashes(proof)) {
			fail("ProveRecord %d differs: %v", i, err)
		}
	}
	fmt.Printf("OK %d inclusion proofs pass tlog.CheckRecord and equal tlog.ProveRecord\n",
		len(in.Proofs))
	old, _ := tlog.ParseHash(in.OldRoot)
	err = tlog.CheckTree(hashes(in.Consistency), tree.N, tree.Hash, in.OldSize, old)
	if err != nil {
		fail("CheckTree: %v", err)
	}
	rebuilt, err := tlog.ProveTree(tree.N, in.OldSize, reader)
	if err != nil || !equal(rebuilt, hashes(in.Consistency)) {
		fail("ProveTree differs: %v", err)
	}
	fmt.Printf("OK the consistency proof from size %d passes tlog.CheckTree", in.OldSize)
	fmt.Printf(" and equals tlog.ProveTree\n")
}

func indexes(n int64) []int64 {
	out := make([]int64, n)
	for i := range out {
		out[i] = tlog.StoredHashIndex(0, int64(i))
	}
	return out
}

func equal(a, b []tlog.Hash) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !bytes.Equal(a[i][:], b[i][:]) {
			return false
		}
	}
	return true
}
"""


def _go() -> str:
    go = shutil.which("go")
    if go is None or not NEEDED.is_dir():
        pytest.skip(
            "Go's sumdb/note and sumdb/tlog are not installed: 'apt-get install golang-go "
            "golang-golang-x-mod-dev' (scripts/ensure-system.sh does it when run as root)"
        )
    return go


@pytest.fixture
def served(sqlite_gate: Gate) -> Iterator[tuple[Gate, str]]:
    import uvicorn

    server = uvicorn.Server(
        uvicorn.Config(create_app(sqlite_gate), host="127.0.0.1", port=0, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail("the service did not start")
        time.sleep(0.05)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield sqlite_gate, f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)


def _append(gate: Gate, n: int, start: int) -> None:
    at = datetime(2026, 1, 1, tzinfo=UTC)
    with gate.db.transaction() as s:
        gate.core.record(
            s,
            *[
                Event(Kind.VERIFIED, at, deployment="dep_go", subject=f"{i:032x}")
                for i in range(start, start + n)
            ],
        )


def test_go_reads_the_checkpoint_tiles_and_proofs(served: tuple[Gate, str], tmp_path: Path) -> None:
    go = _go()
    gate, base = served
    _append(gate, 130, 0)
    old = gate.inclusion_proof(0).size
    old_root = base64.b64decode(gate.checkpoint().split("\n")[2])
    _append(gate, 400, 130)  # past one full tile: level-1 tiles are read too
    witness = Witness.create(tmp_path / "w", name="regulator", log_key=gate.ledger_key())
    gate.add_witness(witness.verifier_key)
    size = witness.observe(gate).size
    proofs = {
        str(i): [h.hex() for h in gate.inclusion_proof(i, size).hashes]
        for i in (0, 1, 255, 256, old - 1, size - 1)
    }
    data = {
        "base": base,
        "vkey": gate.ledger_key(),
        "cosigned": gate.checkpoint_at(size),
        "proofs": proofs,
        "old_size": old,
        "old_root": base64.b64encode(old_root).decode(),
        "consistency": [h.hex() for h in gate.consistency_proof(old, size).hashes],
    }
    assert "— regulator " in data["cosigned"]
    (tmp_path / "input.json").write_text(json.dumps(data))
    (tmp_path / "main.go").write_text(GO_PROGRAM)
    env = {
        **os.environ,
        "GO111MODULE": "off",
        "GOPATH": str(GOPATH),
        "GOCACHE": str(tmp_path / "gocache"),
        "GOFLAGS": "",
        "HOME": str(tmp_path),
    }
    proc = _run(go, tmp_path, env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = proc.stdout
    assert f"size {size}, 2 extension line(s), 1 signature(s) ignored" in out  # cosigned note
    assert "tlog.TreeHash over the tiles equals the signed root" in out
    assert f"OK {size} entries from the entry bundles" in out
    assert "6 inclusion proofs pass tlog.CheckRecord and equal tlog.ProveRecord" in out
    assert f"consistency proof from size {old} passes tlog.CheckTree" in out
    # The same program refuses a proof with one bit flipped: it really checks them.
    flipped = bytearray.fromhex(data["consistency"][0])
    flipped[0] ^= 1
    data["consistency"][0] = flipped.hex()
    (tmp_path / "input.json").write_text(json.dumps(data))
    proc = _run(go, tmp_path, env)
    assert proc.returncode == 1 and "FAIL CheckTree" in proc.stdout, proc.stdout + proc.stderr


def _run(go: str, folder: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [go, "run", str(folder / "main.go"), str(folder / "input.json")],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
        check=False,
    )
