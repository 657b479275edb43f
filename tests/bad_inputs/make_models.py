#!/usr/bin/env python3
"""Writes the bad model files of tests/bad_inputs/models/ (run from the repository root).

Each file starts from a minimal model (every structure of the bundled model, each mesh one
triangle, the same materials and morph-target names) and is damaged in one way. The minimal
model itself (`minimal.glb`) is valid, so each damaged file fails for its one reason.
"""
import json
import struct
from pathlib import Path

OUT = Path("tests/bad_inputs/models")


def bundled_json():
    data = Path("assets/models/pelvis.glb").read_bytes()
    (json_len,) = struct.unpack_from("<I", data, 12)
    return json.loads(data[20 : 20 + json_len])


def glb(doc, bin_chunk, header_len=None):
    js = json.dumps(doc, separators=(",", ":")).encode()
    js += b" " * (-len(js) % 4)
    bin_chunk += b"\0" * (-len(bin_chunk) % 4)
    body = struct.pack("<I", len(js)) + b"JSON" + js + struct.pack("<I", len(bin_chunk)) + b"BIN\0" + bin_chunk
    total = 12 + len(body)
    return b"glTF" + struct.pack("<II", 2, header_len if header_len is not None else total) + body


def minimal(positions=((0.0, 0.0, 0.0), (0.01, 0.0, 0.0), (0.0, 0.01, 0.0))):
    src = bundled_json()
    materials = [{"name": m["name"]} for m in src["materials"]]
    tri = b"".join(struct.pack("<3f", *p) for p in positions)
    delta = struct.pack("<9f", *([0.0] * 9))
    bin_chunk = tri + delta
    finite = [p for p in positions if all(abs(c) < 1e30 for c in p)] or [(0.0, 0.0, 0.0)]
    lo = [min(p[i] for p in finite) for i in range(3)]
    hi = [max(p[i] for p in finite) for i in range(3)]
    doc = {
        "asset": {"version": "2.0", "generator": "tests/bad_inputs/make_models.py"},
        "buffers": [{"byteLength": len(bin_chunk)}],
        "bufferViews": [
            {"buffer": 0, "byteOffset": 0, "byteLength": 36},
            {"buffer": 0, "byteOffset": 36, "byteLength": 36},
        ],
        "accessors": [
            {"bufferView": 0, "componentType": 5126, "count": 3, "type": "VEC3", "min": lo, "max": hi},
            {"bufferView": 1, "componentType": 5126, "count": 3, "type": "VEC3", "min": [0, 0, 0], "max": [0, 0, 0]},
        ],
        "materials": materials,
        "meshes": [],
        "nodes": [{"name": "pelvis", "children": []}],
        "scenes": [{"nodes": [0]}],
        "scene": 0,
    }
    for mesh in src["meshes"]:
        src_prim = mesh["primitives"][0]
        prim = {"attributes": {"POSITION": 0}, "material": src_prim["material"]}
        out = {"name": mesh["name"], "primitives": [prim]}
        if "targets" in src_prim:
            prim["targets"] = [{"POSITION": 1} for _ in src_prim["targets"]]
            out["extras"] = mesh["extras"]
        doc["meshes"].append(out)
        doc["nodes"][0]["children"].append(len(doc["nodes"]))
        doc["nodes"].append({"name": mesh["name"], "mesh": len(doc["meshes"]) - 1})
    return doc, bin_chunk


def mesh_named(doc, name):
    return next(m for m in doc["meshes"] if m["name"] == name)


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    doc, bin_chunk = minimal()
    valid = glb(doc, bin_chunk)
    files = {"minimal.glb": valid, "empty.glb": b"", "truncated.glb": valid[: len(valid) // 2]}
    # The header says the file is shorter than it is.
    files["header_length_lies.glb"] = glb(doc, bin_chunk, header_len=len(valid) - 40)

    d, b = minimal()
    node = next(n for n in d["nodes"] if n.get("name") == "piriformis_l")
    node["name"] = "not_a_structure"
    files["missing_structure.glb"] = glb(d, b)

    d, b = minimal()
    mesh_named(d, "piriformis_r")["extras"]["targetNames"] = ["relaxed"]
    files["wrong_morph_target.glb"] = glb(d, b)

    d, b = minimal()
    m = mesh_named(d, "sciatic_nerve_l")
    del m["primitives"][0]["targets"]
    del m["extras"]
    files["missing_morph_target.glb"] = glb(d, b)

    d, b = minimal()
    d["buffers"][0]["byteLength"] = 4_000_000_000
    d["bufferViews"][0]["byteLength"] = 3_999_999_000
    files["huge_buffer.glb"] = glb(d, b)

    d, b = minimal()
    d["accessors"][0]["count"] = 2_000_000_000
    files["huge_accessor.glb"] = glb(d, b)

    # Found by `hipback fuzz`: a POSITION naming an accessor that does not exist made the
    # gltf crate's validation panic.
    d, b = minimal()
    mesh_named(d, "sacrum")["primitives"][0]["attributes"]["POSITION"] = 7
    files["missing_accessor.glb"] = glb(d, b)

    nan = float("nan")
    d, b = minimal(((0.0, 0.0, 0.0), (nan, 0.0, 0.0), (0.0, 0.01, 0.0)))
    files["nan_position.glb"] = glb(d, b)
    d, b = minimal(((0.0, 0.0, 0.0), (0.01, 0.0, 0.0), (0.0, float("inf"), 0.0)))
    files["inf_position.glb"] = glb(d, b)

    for name, data in files.items():
        (OUT / name).write_bytes(data)


if __name__ == "__main__":
    main()
