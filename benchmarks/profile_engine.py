"""Where the KMC kernel spends its time, instruction by instruction (Linux ``perf``).

    python benchmarks/profile_engine.py [--L 200] [--voids 200] [--T 0.2] [--hops 20000000]

Runs one benchmark case (``dplm_explore.bench.bench_case``) under ``perf record -e cpu-clock``
(a timer, so it works on VMs without hardware counters), dumps the machine code of the compiled
``_advance`` from the same process, and prints

* the share of samples in the kernel, in libm (``exp``) and elsewhere;
* the kernel's hottest instructions, each with the few instructions before it (a timer sample
  lands just after the instruction that stalled, typically a load that missed the cache);
* the share of kernel samples per block of 64 instructions, to see which part of the hop body
  (tree descent, pair look-ups, scan, accumulators) costs what: call sites of ``exp`` and the hash
  constants (0x9e3779b97f4a7c15, 0xbf58476d1ce4e5b9) are easy landmarks in the listing.

Needs ``perf`` and ``objdump`` on PATH; the listing is written to ``--out`` (default
``advance.ann`` in a temporary directory) for reading in full.
"""

from __future__ import annotations

import argparse
import collections
import os
import re
import shutil
import subprocess
import sys
import tempfile

CHILD = r"""
import ctypes, sys
from dplm_explore.bench import bench_case, compile_kernels
from dplm_explore.kmc import _kernel
compile_kernels()
L, nv, T, hops, out = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
r = bench_case(L, nv, T, hops=hops)
print(f"{r['hops_per_s'] / 1e6:.2f} M hops/s under perf, cache hits {r['cache_hit_fraction']:.2f}")
f = _kernel._advance
cres = f.overloads[f.signatures[0]]
addr = cres.library.get_pointer_to_function(cres.fndesc.llvm_func_name)
with open(out + ".bin", "wb") as fh:
    fh.write(ctypes.string_at(addr, 65536))
with open(out + ".addr", "w") as fh:
    fh.write(hex(addr))
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--L", type=int, default=200)
    ap.add_argument("--voids", type=int, default=200)
    ap.add_argument("--T", type=float, default=0.2)
    ap.add_argument("--hops", type=int, default=20_000_000)
    ap.add_argument("--delay-ms", type=int, default=4000, help="start sampling after set-up and compile")
    ap.add_argument("--top", type=int, default=12)
    ap.add_argument("--out", default=None)
    a = ap.parse_args()
    for tool in ("perf", "objdump"):
        if shutil.which(tool) is None:
            sys.exit(f"profile_engine needs {tool!r} on PATH")
    work = tempfile.mkdtemp(prefix="dplm-prof-")
    base = os.path.join(work, "advance")
    data = os.path.join(work, "perf.data")
    # load the kernels from the cache first, so the sampled run does not compile
    subprocess.run([sys.executable, "-c", "from dplm_explore.bench import compile_kernels; compile_kernels()"], check=True)
    cmd = ["perf", "record", "-q", "-e", "cpu-clock", "-F", "4000", "-D", str(a.delay_ms), "-o", data,
           sys.executable, "-c", CHILD, str(a.L), str(a.voids), str(a.T), str(a.hops), base]
    subprocess.run(cmd, check=True)
    script = subprocess.run(["perf", "script", "-i", data, "-F", "ip,dso"], capture_output=True, text=True, check=True).stdout
    addr0 = int(open(base + ".addr").read(), 16)
    size = os.path.getsize(base + ".bin")
    ips: collections.Counter[int] = collections.Counter()
    dsos: collections.Counter[str] = collections.Counter()
    for line in script.splitlines():
        parts = line.split()
        if not parts:
            continue
        ip = int(parts[0], 16)
        if addr0 <= ip < addr0 + size:
            ips[ip] += 1
            dsos["kernel (_advance)"] += 1
        else:
            dso = parts[-1].strip("()") if len(parts) > 1 else "?"
            dsos[os.path.basename(dso) if dso.startswith("/") else dso] += 1
    total = sum(dsos.values())
    print(f"\n{total} samples")
    for name, n in dsos.most_common(6):
        print(f"  {100 * n / total:5.1f} %  {name}")

    asm = subprocess.run(["objdump", "-D", "-b", "binary", "-m", "i386:x86-64", f"--adjust-vma={hex(addr0)}", base + ".bin"],
                         capture_output=True, text=True, check=True).stdout
    rows = []  # (address, text)
    for line in asm.splitlines():
        m = re.match(r"\s*([0-9a-f]+):\t(?:[0-9a-f]{2} )+\s*\t?(.*)", line)
        if m:
            rows.append((int(m.group(1), 16), m.group(2).strip()))
    # the dump is a fixed 64 KiB window past the entry; only its sampled part matters
    ksum = sum(ips.values()) or 1
    out = a.out or base + ".ann"
    with open(out, "w") as fh:
        for ad, text in rows:
            fh.write(f"{100 * ips.get(ad, 0) / ksum:6.2f}  {ad - addr0:6x}  {text}\n")
    index = {ad: i for i, (ad, _) in enumerate(rows)}
    print(f"\nhottest kernel instructions (% of kernel samples; offsets from the entry; listing in {out}):")
    for ad, n in ips.most_common(a.top):
        i = index.get(ad)
        if i is None:
            continue
        print(f"  {100 * n / ksum:5.1f} %  +{ad - addr0:x}")
        for j in range(max(0, i - 3), i + 1):
            print(f"            {rows[j][0] - addr0:6x}  {rows[j][1]}")
    print("\nkernel samples per block of 64 instructions (blocks above 2 %):")
    blocks: collections.Counter[int] = collections.Counter()
    for ad, n in ips.items():
        if ad in index:
            blocks[index[ad] // 64] += n
    for b in sorted(blocks):
        if blocks[b] / ksum > 0.02:
            print(f"  {100 * blocks[b] / ksum:5.1f} %  +{rows[b * 64][0] - addr0:x} .. +{rows[min(b * 64 + 63, len(rows) - 1)][0] - addr0:x}")


if __name__ == "__main__":
    main()
