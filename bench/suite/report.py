#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""report.py RESULTS NOTES BENCHDIR: write BENCHDIR/REPORT.md and plots.

RESULTS has one line per figure and repetition:
    section variant test param rep value unit   (tab-separated)
NOTES has "section<TAB>text" lines that run.sh wants in the report.
Every figure is shown as the median of its repetitions with the min-max
spread; targets are ratios of medians taken in this one run.
"""
import os
import statistics
import subprocess
import sys
from collections import defaultdict

res_path, notes_path, bench = sys.argv[1:4]
PLOTS = os.path.join(bench, "suite", "plots")
OUT = os.path.join(bench, "out", "suite")

samples = defaultdict(list)
units = {}
for line in open(res_path):
    f = line.rstrip("\n").split("\t")
    if len(f) != 7:
        continue
    sec, var, test, param, _rep, val, unit = f
    try:
        samples[(sec, var, test, param)].append(float(val))
    except ValueError:
        continue
    units[(sec, var, test, param)] = unit

notes = defaultdict(list)
for line in open(notes_path):
    sec, _, text = line.rstrip("\n").partition("\t")
    notes[sec].append(text)


def run_param(name):
    """A value of the run's meta note (reps, recall_rounds...), or None."""
    for line in notes.get("meta", []):
        f = line.split()
        for k, v in zip(f[::2], f[1::2]):
            if k == name:
                return v
    return None


def p99_rank_text(n):
    """Which sample bench_pct() calls the p99 of N, in words."""
    worst = n - int(0.99 * (n - 1) + 0.5)
    if worst == 1:
        return f"the worst of {n} rounds"
    if worst == 2:
        return f"the second-worst of {n} rounds"
    return f"the {worst}th-worst of {n} rounds"


def med(sec, var, test, param):
    v = samples.get((sec, var, test, str(param)))
    return statistics.median(v) if v else None


def fmt_num(x):
    if x is None:
        return "n/a"
    if x >= 100:
        return f"{x:,.0f}"
    if x >= 10:
        return f"{x:.1f}"
    return f"{x:.2f}"


def cell(sec, var, test, param, scale=1.0):
    v = samples.get((sec, var, test, str(param)))
    if not v:
        return "n/a"
    m = statistics.median(v) * scale
    if len(v) == 1:
        return fmt_num(m)
    return (f"{fmt_num(m)} ({fmt_num(min(v) * scale)}–"
            f"{fmt_num(max(v) * scale)})")


verdicts = []   # (area, figure, ratio text, target, PASS/MISS)


def judge(area, figure, ratio, target, ok_if_ge=True, floor=None,
          floor_name="FUSE floor", beyond="out of reach within FUSE"):
    """Record a target check; return the table cell text.

    @floor is the best ratio any FUSE server could reach, measured in the
    same run (@floor_name says which bound it is); a MISS names it, and
    says whether the floor itself misses the target (@beyond) or would
    meet it (bmapfs's own cost is what misses).
    """
    if ratio is None:
        verdicts.append((area, figure, "n/a", target, "MISS (not measured)"))
        return "n/a — MISS"
    word = "PASS" if meets(ratio, target, ok_if_ge) else "MISS"
    text = f"{ratio:.2f} — {word}"
    result = word
    if word == "MISS" and floor is not None:
        reach = ("the bound meets the target: bmapfs's own cost misses"
                 if meets(floor, target, ok_if_ge) else beyond)
        result = f"MISS ({floor_name} {floor:.2f}, same run: {reach})"
        text += f" (floor {floor:.2f})"
    verdicts.append((area, figure, f"{ratio:.2f}", target, result))
    return text


def meets(ratio, target, ok_if_ge):
    v = target_value(target)
    return ratio >= v if ok_if_ge else ratio <= v


def target_value(t):
    return float(t.strip("≥≤<×% ").replace("×", ""))


def ratio(a, b):
    if a is None or b is None or b == 0:
        return None
    return a / b


def gnuplot(name, script):
    os.makedirs(PLOTS, exist_ok=True)
    dat = os.path.join(PLOTS, name.replace(".svg", ".dat"))
    if not any(x not in ("NaN", "nan") for line in open(dat)
               for x in line.rstrip("\n").split("\t")[1:]):
        return None
    path = os.path.join(PLOTS, name)
    head = (f"set terminal svg size 640,360 font 'sans,10'\n"
            f"set output '{path}'\n")
    r = subprocess.run(["gnuplot"], input=head + script, text=True,
                       capture_output=True)
    if r.returncode:
        print(f"report: gnuplot {name}: {r.stderr}", file=sys.stderr)
        if os.path.exists(path):
            os.unlink(path)
        return None
    return f"suite/plots/{name}"


def write_dat(name, rows):
    os.makedirs(PLOTS, exist_ok=True)
    path = os.path.join(PLOTS, name)
    with open(path, "w") as f:
        for r in rows:
            f.write("\t".join(str(x) for x in r) + "\n")
    return path


md = []
w = md.append

FS = ["ext4", "fuse2fs", "bmapfs"]
HOLDERS = ("1", "10", "100")     # run.sh's holder counts for the recall
DATA_TESTS = ["seqwrite", "seqread", "randwrite", "randread"]
# The random data rows' bounds (run.sh data_bound): writes on a
# pass-through FUSE server over bmapfs's files at their blocks of the same
# image, reads on the same server over host files of their own.
WRITE_BOUND = "passthrough-image"
READ_BOUND = "passthrough"


def section_data():
    w("## 1. Data path (fio, O_DIRECT, psync)\n")
    w("Same ext4 image mounted in turn by kernel ext4 (loop), fuse2fs and "
      "bmapfs; caches dropped before every run. Sequential figures are "
      "MiB/s with 1 MiB blocks, random ones IOPS with 4 KiB blocks; "
      "median (min–max) of the repetitions.\n")
    w("| test | jobs | ext4 | fuse2fs | bmapfs | bmapfs/fuse2fs (≥2) "
      "| bmapfs/ext4 (≥0.5, seq) |")
    w("|---|---|---|---|---|---|---|")
    for t in DATA_TESTS:
        for j in ("1", "2"):
            b = med("data", "bmapfs", t, j)
            f = med("data", "fuse2fs", t, j)
            bound = (randread_bound(j, f) if t == "randread" else
                     randwrite_bound(j, f) if t == "randwrite" else
                     (None, None, None))
            r_f = judge("data", f"{t} {j}j vs fuse2fs", ratio(b, f), "≥2",
                        floor=bound[0], floor_name=bound[1],
                        beyond=bound[2])
            r_e = ratio(b, med("data", "ext4", t, j))
            if t.startswith("seq"):
                r_e = judge("data", f"{t} {j}j vs ext4", r_e, "≥0.5")
            else:
                r_e = f"{r_e:.2f}" if r_e is not None else "n/a"
            w(f"| {t} | {j} | {cell('data', 'ext4', t, j)} | "
              f"{cell('data', 'fuse2fs', t, j)} | "
              f"{cell('data', 'bmapfs', t, j)} | {r_f} | {r_e} |")
    w("")
    if med("data", READ_BOUND, "randread", "1") is None:
        return
    w("The random read rows' bounds, same run: the *device ceiling* is the "
      "image read straight at the same kind of offsets (section 1b's raw "
      "image, 1 and 2 readers); the *pass-through FUSE server* is "
      "bs_nullfs -b, which answers each read with one pread of a host "
      "file of the same size on the same disk and does nothing else, "
      "with bmapfs's transport settings: the least any FUSE server can "
      "do for a cold read. (Not bmapfs's own blocks: fio reads the same "
      "offsets in every run, and this disk answers blocks read a moment "
      "before faster.) IOPS, median (min–max).\n")
    w("| jobs | raw image | pass-through FUSE server | bmapfs | "
      "bmapfs/pass-through |")
    w("|---|---|---|---|---|")
    for j in ("1", "2"):
        pt, b = (med("data", v, "randread", j)
                 for v in (READ_BOUND, "bmapfs"))
        r = ratio(b, pt)
        w(f"| {j} | {cell('buffered', 'raw-image', 'rread', j)} | "
          f"{cell('data', READ_BOUND, 'randread', j)} | "
          f"{cell('data', 'bmapfs', 'randread', j)} | "
          f"{f'{r:.2f}' if r is not None else 'n/a'} |")
    w("")
    if med("data", WRITE_BOUND, "randwrite", "1") is None:
        return
    w("The random write rows' bound, same run: the same pass-through "
      "FUSE server, its f.0 and f.1 bmapfs's own files at their blocks "
      "of the same image (bs_nullfs -m, run after bmapfs), answers each "
      "4 KiB write with one pwrite of the image at the block bmapfs "
      "writes (in the host's page cache, as bmapfs's pwrite is) and does "
      "nothing else. IOPS, median (min–max).\n")
    w("| jobs | pass-through FUSE server | bmapfs | bmapfs/pass-through |")
    w("|---|---|---|---|")
    for j in ("1", "2"):
        r = ratio(med("data", "bmapfs", "randwrite", j),
                  med("data", WRITE_BOUND, "randwrite", j))
        w(f"| {j} | {cell('data', WRITE_BOUND, 'randwrite', j)} | "
          f"{cell('data', 'bmapfs', 'randwrite', j)} | "
          f"{f'{r:.2f}' if r is not None else 'n/a'} |")
    w("")


def randwrite_bound(jobs, fuse2fs):
    """(ratio, name, verdict) of the lower bound on a random write row.

    A 4 KiB O_DIRECT write through FUSE is at least one round trip and
    one pwrite: the pass-through server does exactly that.
    """
    return (ratio(med("data", WRITE_BOUND, "randwrite", jobs), fuse2fs),
            "pass-through FUSE server", "out of reach within FUSE")


def randread_bound(jobs, fuse2fs):
    """(ratio, name, verdict) of the lower bound on a cold random read row.

    Cold random reads cannot beat the disk (the raw image's IOPS for the
    same pattern) nor a FUSE server that does nothing but the read (the
    pass-through server); whichever is lower over fuse2fs's figure is
    the most any FUSE server gets.
    """
    bounds = [(ratio(med("buffered", "raw-image", "rread", jobs), fuse2fs),
               "device ceiling", "out of reach on this disk"),
              (ratio(med("data", READ_BOUND, "randread", jobs), fuse2fs),
               "pass-through FUSE server", "out of reach within FUSE")]
    bounds = [b for b in bounds if b[0] is not None]
    return min(bounds) if bounds else (None, "FUSE floor",
                                       "out of reach within FUSE")


# FUSE round trips the kernel needs from the server for one operation of
# bs_meta (counted with bmapfs -d): create = GETATTR of the directory
# (the kernel refreshes the attributes of a directory it changed before
# its next permission check), LOOKUP, CREATE (RELEASE is not waited for);
# stat after a cache drop = LOOKUP; unlink = UNLINK and the directory's
# GETATTR (FORGET has no reply).
META_RTTS = {"create": 3, "stat": 1, "unlink": 2}


def section_meta():
    w("## 5. Metadata (create, stat, unlink of files in one directory)\n")
    n = meta_n("?")
    w(f"{n} empty files; caches dropped before the stat pass. ops/s, "
      "median (min–max). *null FUSE server* is bs_nullfs, a FUSE server "
      "that keeps names in a hash table and answers at once, with "
      "bmapfs's transport settings (multithreaded loop, "
      "default_permissions, the same timeouts), measured in the same "
      "run: what FUSE's transport costs per operation on this machine "
      "with no storage work behind it. bmapfs/null at or above 1 means "
      "bmapfs runs at the transport's rate (bmapfs can come out ahead: "
      "its own request handling is what the null server copies, and the "
      "host's noise is of the same size). *round trips* is the cruder "
      "estimate: the operation's round trips to the server (in brackets) "
      "times the round trip measured below.\n")
    w("| op | ext4 | fuse2fs | bmapfs | null FUSE server | "
      "bmapfs/fuse2fs (≥3) | bmapfs/ext4 (≥0.3) | null/ext4 (floor) | "
      "bmapfs/null | round trips | rtt estimate/ext4 |")
    w("|---|---|---|---|---|---|---|---|---|---|---|")
    rtt = med("metadata", "bmapfs", "rtt", n)
    for op in ("create", "stat", "unlink"):
        b = med("metadata", "bmapfs", op, n)
        e = med("metadata", "ext4", op, n)
        null = med("metadata", "nullfs", op, n)
        est = 1e9 / (META_RTTS[op] * rtt) if rtt else None
        floor = ratio(null, e) if null else ratio(est, e)
        r_f = judge("metadata", f"{op} vs fuse2fs",
                    ratio(b, med("metadata", "fuse2fs", op, n)), "≥3")
        r_e = judge("metadata", f"{op} vs ext4", ratio(b, e), "≥0.3",
                    floor=floor,
                    floor_name="null FUSE server" if null else
                    "round-trip estimate")
        w(f"| {op} | {cell('metadata', 'ext4', op, n)} | "
          f"{cell('metadata', 'fuse2fs', op, n)} | "
          f"{cell('metadata', 'bmapfs', op, n)} | "
          f"{cell('metadata', 'nullfs', op, n)} | {r_f} | {r_e} | "
          f"{fmt_num(ratio(null, e))} | {fmt_num(ratio(b, null))} | "
          f"{META_RTTS[op]} | {fmt_num(ratio(est, e))} |")
    if rtt:
        w(f"\nRound trip (getxattr of a name the directory lacks, which "
          f"no cache answers), µs: bmapfs "
          f"{cell('metadata', 'bmapfs', 'rtt', n, 1e-3)}, null FUSE "
          f"server {cell('metadata', 'nullfs', 'rtt', n, 1e-3)}, fuse2fs "
          f"{cell('metadata', 'fuse2fs', 'rtt', n, 1e-3)}, kernel ext4 "
          f"(no round trip) {cell('metadata', 'ext4', 'rtt', n, 1e-3)}.")
    w("")


BUF_TESTS = [("buffered-write", "seq write, buffered (+ final fsync)"),
             ("buffered-read", "seq read, buffered"),
             ("buffered-randwrite", "rand write, buffered"),
             ("buffered-randread", "rand read, buffered"),
             ("buffered-fsync64", "rand write, buffered, fsync/64"),
             ("io_uring-write", "seq write, io_uring QD16"),
             ("io_uring-read", "seq read, io_uring QD16"),
             ("io_uring-randwrite", "rand write, io_uring QD16"),
             ("io_uring-randread", "rand read, io_uring QD16")]


def section_buffered():
    w("## 1b. Buffered and io_uring I/O\n")
    if not any(k[0] == "buffered" for k in samples):
        w("Not measured.\n")
        return
    w("One file per filesystem on a fresh image each repetition, reused "
      "by every run; caches dropped before each run. *buffered*: psync "
      "through the page cache (sequential writes end with an fsync); "
      "*io_uring*: O_DIRECT, queue depth 16; *fsync/64*: 4 KiB random "
      "buffered writes with an fsync after every 64. 1 MiB blocks for "
      "sequential runs (MiB/s), 4 KiB for random ones (IOPS); median "
      "(min–max).\n")
    w("| test | ext4 | fuse2fs | bmapfs | bmapfs/ext4 | bmapfs/fuse2fs |")
    w("|---|---|---|---|---|---|")
    for t, label in BUF_TESTS:
        b = med("buffered", "bmapfs", t, 1)
        r_e = ratio(b, med("buffered", "ext4", t, 1))
        r_f = ratio(b, med("buffered", "fuse2fs", t, 1))
        fl = fsync64_bound()
        r_e = (judge("buffered", "randwrite+fsync/64 vs ext4", r_e, "≥0.8",
                     floor=fl[0], floor_name=fl[1])
               if t == "buffered-fsync64" else fmt_num(r_e))
        w(f"| {label} | {cell('buffered', 'ext4', t, 1)} | "
          f"{cell('buffered', 'fuse2fs', t, 1)} | "
          f"{cell('buffered', 'bmapfs', t, 1)} | {r_e} | "
          f"{fmt_num(r_f)} |")
    w("")
    w("Cold random reads: the same 4 KiB blocks of the file, in the same "
      "order, read with O_DIRECT through each mount (bs_rread), and for "
      "bmapfs's file also straight from the image file at the offsets "
      "`debugfs -R blocks` gives (*raw image*): the disk's own speed for "
      "that pattern. Every variant reads its blocks twice, caches "
      "dropped before each pass, and the second pass is the figure: the "
      "disk under this machine answers blocks read shortly before "
      "faster, which favoured whichever variant came second. IOPS, "
      "median (min–max).\n")
    w("| raw image | ext4 | fuse2fs | bmapfs | pass-through FUSE server "
      "| bmapfs/raw (≥0.9) |")
    w("|---|---|---|---|---|---|")
    b, raw, pt, pi = (med("buffered", v, "rread", 1)
                      for v in ("bmapfs", "raw-image", "passthrough",
                                "passthrough-image"))
    fl = rread_floor()
    bound = ((ratio(pi, raw),
              "pass-through FUSE server on the image's blocks") if pi else
             (ratio(pt, raw), "pass-through FUSE server") if pt else
             (fl[2] if fl else None, "FUSE floor"))
    j = judge("data", "randread vs raw image", ratio(b, raw), "≥0.9",
              floor=bound[0], floor_name=bound[1])
    w(f"| {cell('buffered', 'raw-image', 'rread', 1)} | "
      f"{cell('buffered', 'ext4', 'rread', 1)} | "
      f"{cell('buffered', 'fuse2fs', 'rread', 1)} | "
      f"{cell('buffered', 'bmapfs', 'rread', 1)} | "
      f"{cell('buffered', 'passthrough', 'rread', 1)} | {j} |")
    if fl:
        w(f"\nWith one FUSE round trip ({fl[0]:.1f} µs, section 5) added "
          f"to each raw read ({fl[1]:.1f} µs), a FUSE server could reach "
          f"{fl[2]:.2f}× the raw image at best; the pass-through server "
          "(the same reads of a host file of the same size, one pread "
          "each) is that bound measured.")
    if pi and raw:
        w(f"\nThe same pass-through server over the image itself, its "
          f"file being buf.0's own blocks (one pread at the image offset "
          f"the raw reads use), read "
          f"{cell('buffered', 'passthrough-image', 'rread', 1)} IOPS: "
          f"{ratio(pi, raw):.2f}× the raw image, the exact bound of a "
          f"FUSE server over this image and the row's floor.")
    w("")


def meta_n(default=None):
    """The file count of the metadata runs (their parameter), if any."""
    return next((k[3] for k in samples if k[0] == "metadata"), default)


def bmapfs_rtt():
    """bmapfs's round trip in this run (ns), from the metadata section."""
    n = meta_n()
    return med("metadata", "bmapfs", "rtt", n) if n else None


def fsync64_bound():
    """(floor, floor name) of the fsync/64 row, for judge().

    The pass-through server does the least a FUSE server that keeps the
    data can do (one pwrite per write, one fdatasync per fsync).  Run
    over buf.0's own blocks of bmapfs's image it is the bound of any
    server that keeps the file in that image; over a separate host file
    it is the bound of one that may choose its host file.  The first
    is the floor when the run has it, else the second, else the
    round-trip estimate below.
    """
    e = med("buffered", "ext4", "buffered-fsync64", 1)
    for v, name in (("passthrough-image",
                     "pass-through FUSE server on the image's blocks"),
                    ("passthrough", "pass-through FUSE server")):
        pt = ratio(med("buffered", v, "buffered-fsync64", 1), e)
        if pt is not None:
            return pt, name
    return fsync64_floor(), "FUSE floor"


def fsync64_floor():
    """Best fsync/64 ratio to ext4 of a server that answers each write.

    Every write(2) is a round trip (no writeback cache: S3), and the
    fsync flushes the same bytes to the same disk: 64 round trips of
    this run plus the faster of the two filesystems' mean fsync.
    """
    rtt = bmapfs_rtt()
    syncs = [fsync64_lat(fs)[1] for fs in ("bmapfs", "ext4")]
    e = med("buffered", "ext4", "buffered-fsync64", 1)
    if not rtt or not all(syncs) or not e:
        return None
    return 64 / ((64 * rtt + min(syncs)) / 1e9) / e


def rread_floor():
    """(rtt µs, raw read µs, floor ratio) for the cold random reads."""
    rtt = bmapfs_rtt()
    raw = med("buffered", "raw-image", "rread", 1)
    if not rtt or not raw:
        return None
    raw_us = 1e6 / raw
    return rtt / 1e3, raw_us, raw_us / (raw_us + rtt / 1e3)


def plot_data():
    rows = []
    for t in DATA_TESTS:
        for j in ("1", "2"):
            e = med("data", "ext4", t, j)
            rows.append([f"{t}-{j}j"] + [fmt_ratio(med("data", fs, t, j), e)
                                         for fs in FS])
    n = meta_n()
    for op in ("create", "stat", "unlink"):
        e = med("metadata", "ext4", op, n)
        rows.append([op] + [fmt_ratio(med("metadata", fs, op, n), e)
                            for fs in FS])
    dat = write_dat("data.dat", rows)
    return gnuplot("data.svg", f"""
set title 'Data path and metadata, relative to kernel ext4 (= 1)'
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set boxwidth 0.9
set logscale y
set yrange [0.01:*]
set xtics rotate by -30 font ',9'
set grid ytics
set key top right
plot '{dat}' using 2:xtic(1) title 'ext4', '' using 3 title 'fuse2fs', \
     '' using 4 title 'bmapfs'
""")


def fmt_ratio(a, b):
    r = ratio(a, b)
    return f"{r:.4f}" if r is not None else "NaN"


def section_dma():
    w("## 2. DMA path (device I/O under a lease vs raw image I/O)\n")
    mb = next((k[3] for k in samples if k[0] == "dma"), "?")
    w(f"{mb} MiB per run. *lease* = write lease, map with allocate, O_DIRECT "
      "pwrite of 1 MiB chunks at the mapped image offsets, fdatasync, "
      "commit, release (all inside the timing), on blocks written once "
      "before; *first write* = the same on a new file, where the host "
      "also allocates the image file's blocks; *raw* = the same O_DIRECT "
      "I/O at the same offsets with no lease; *mount* = the same bytes "
      "written through the bmapfs mount (O_DIRECT, 1 MiB, fsync). MiB/s, "
      "median (min–max).\n")
    w("| path | write | read | vs raw (≥0.9) |")
    w("|---|---|---|---|")
    lw, rw = med("dma", "bmapfs", "lease_write", mb), \
        med("dma", "bmapfs", "raw_write", mb)
    lr, rr = med("dma", "bmapfs", "lease_read", mb), \
        med("dma", "bmapfs", "raw_read", mb)
    w(f"| raw image | {cell('dma', 'bmapfs', 'raw_write', mb)} | "
      f"{cell('dma', 'bmapfs', 'raw_read', mb)} | 1 |")
    jw = judge("dma", "lease write vs raw", ratio(lw, rw), "≥0.9")
    jr = judge("dma", "lease read vs raw", ratio(lr, rr), "≥0.9")
    w(f"| lease (DMA) | {cell('dma', 'bmapfs', 'lease_write', mb)} | "
      f"{cell('dma', 'bmapfs', 'lease_read', mb)} | write {jw}; read {jr} |")
    mw = med("dma", "bmapfs", "mount_write", mb)
    w(f"| lease, first write (allocating) | "
      f"{cell('dma', 'bmapfs', 'alloc_write', mb)} | – | write "
      f"{fmt_num(ratio(med('dma', 'bmapfs', 'alloc_write', mb), rw))} "
      "(for reference) |")
    w(f"| through mount | {cell('dma', 'bmapfs', 'mount_write', mb)} | – | "
      f"write {fmt_num(ratio(mw, rw))} (for reference) |")
    ph = [med("dma", "bmapfs", f"phase_{p}", mb) for p in
          ("map", "io", "commit")]
    if all(x is not None for x in ph):
        w(f"\nWhere the lease write's time goes (median ms): lease + map "
          f"{ph[0]:.2f}, device I/O {ph[1]:.2f}, commit + release "
          f"{ph[2]:.2f}. The device I/O part is the same work as *raw*; "
          "the other two are the lease protocol's cost, paid once per "
          "mapping, not per byte.")
    ext = med("dma", "bmapfs", "extents", mb)
    if ext is not None:
        w(f"\nThe leased file had {ext:.0f} extent(s).")
    w("")


VARIANTS_MAP = ["bmapfs-ioctl", "fiemap-ext4", "fiemap-xfs",
                "libbmap-xmap", "libbmap-engine"]


def frag_sizes():
    return sorted({int(k[3]) for k in samples if k[0] == "map"})


def section_map():
    w("## 3. Map calls (1, 1k, 100k extents)\n")
    w("Files with N one-block extents (preallocate, punch every other "
      "block), made once on kernel ext4; bmapfs maps the *same files* on "
      "the same image through BMAP_IOC_MAP under a read lease (through "
      "FUSE); XFS gets the same layout on its own image. *point* = one "
      "call mapping one random 4 KiB block; *whole* = mapping the whole "
      "file (FIEMAP with a buffer for all extents in one call; bmapfs in "
      "calls of BMAP_IOC_MAP_LARGE, up to 508 extents each, and of "
      "BMAP_IOC_MAP, up to 32, in the *32/call* column). "
      "In-process lookups: bmap_xmap_lookup and bmap_file_lookup on an "
      "in-memory engine. Nanoseconds, median (min–max).\n")
    w("*FUSE ioctl RTT* is BMAP_IOC_GETSTATE on the same descriptor: an "
      "ioctl through FUSE that does no mapping work, the transport's "
      "floor. bmapfs lists holes as extents too, so its whole-file map of "
      "N one-block extents has 2N-1 records.\n")
    w("*client lookup* is bmap_client_lookup() at a random block under "
      "the same lease, after one bmap_client_map() of the whole file: "
      "the client library keeps the extents the lease was handed (stable "
      "until a recall, which the library drops them on) and answers "
      "without a system call; mean of batches of 256 lookups.\n")
    w("| extents | client lookup (no syscall) | bmapfs ioctl point | "
      "FUSE ioctl RTT | FIEMAP ext4 point | FIEMAP XFS point | xmap lookup "
      "| engine lookup | lookup/FIEMAP-ext4 (≤0.5) | "
      "ioctl/FIEMAP-ext4 (≤3) | ioctl/FIEMAP-XFS (≤3) |")
    w("|---|---|---|---|---|---|---|---|---|---|---|")
    for n in frag_sizes():
        fe = med("map", "fiemap-ext4", "point", n)
        jc = judge("map", f"point lookup (no syscall), {n} ext. vs "
                   "FIEMAP ext4",
                   ratio(med("map", "bmapfs-ioctl", "cache", n), fe),
                   "≤0.5", ok_if_ge=False)
        b = med("map", "bmapfs-ioctl", "point", n)
        rtt = med("map", "bmapfs-ioctl", "rtt", n)
        fx = med("map", "fiemap-xfs", "point", n)
        je = judge("map", f"point {n} ext. vs FIEMAP ext4",
                   ratio(b, fe), "≤3", ok_if_ge=False,
                   floor=ratio(rtt, fe))
        jx = judge("map", f"point {n} ext. vs FIEMAP XFS", ratio(b, fx),
                   "≤3", ok_if_ge=False, floor=ratio(rtt, fx))
        w(f"| {n} | {cell('map', 'bmapfs-ioctl', 'cache', n)} | "
          f"{cell('map', 'bmapfs-ioctl', 'point', n)} | "
          f"{cell('map', 'bmapfs-ioctl', 'rtt', n)} | "
          f"{cell('map', 'fiemap-ext4', 'point', n)} | "
          f"{cell('map', 'fiemap-xfs', 'point', n)} | "
          f"{cell('map', 'libbmap-xmap', 'point', n)} | "
          f"{cell('map', 'libbmap-engine', 'point', n)} | {jc} | {je} | "
          f"{jx} |")
    w("")
    w("| extents | bmapfs ioctl whole (µs) | bmapfs 32/call (µs) | "
      "bmap_client_map (µs) | FIEMAP ext4 whole (µs) | "
      "FIEMAP XFS whole (µs) | ioctl/FIEMAP-ext4 (≤3; largest ≤1) |")
    w("|---|---|---|---|---|---|---|")
    sizes = frag_sizes()
    for n in sizes:
        fw = med("map", "fiemap-ext4", "whole", n)
        r = ratio(med("map", "bmapfs-ioctl", "whole", n), fw)
        # a file that fits one call costs at least one round trip
        fl = ratio(med("map", "bmapfs-ioctl", "rtt", n), fw) \
            if 2 * n - 1 <= 508 else None
        je = judge("map", f"whole file {n} ext. vs FIEMAP ext4", r, "≤3",
                   ok_if_ge=False, floor=fl)
        if n == sizes[-1]:
            je = judge("map", f"whole file {n} ext. vs FIEMAP ext4", r,
                       "≤1", ok_if_ge=False, floor=fl)
        w(f"| {n} | {cell('map', 'bmapfs-ioctl', 'whole', n, 1e-3)} | "
          f"{cell('map', 'bmapfs-ioctl', 'whole_small', n, 1e-3)} | "
          f"{cell('map', 'bmapfs-ioctl', 'whole_client', n, 1e-3)} | "
          f"{cell('map', 'fiemap-ext4', 'whole', n, 1e-3)} | "
          f"{cell('map', 'fiemap-xfs', 'whole', n, 1e-3)} | {je} |")
    w("")


def plot_map():
    rows = []
    for n in frag_sizes():
        rows.append([n] + [med("map", v, "point", n) or "NaN"
                           for v in VARIANTS_MAP])
    dat = write_dat("map.dat", rows)
    cols = ", ".join(f"'{dat}' using 1:{i + 2} with linespoints "
                     f"title '{v}'" for i, v in enumerate(VARIANTS_MAP))
    return gnuplot("map.svg", f"""
set title 'Map one block: latency vs extents in the file'
set logscale xy
set xlabel 'extents in file'
set ylabel 'ns per call (median)'
set grid
set key outside right
plot {cols}
""")


def section_recall():
    w("## 4. Recall: truncate with cooperating lease holders\n")
    w("Each holder is a process with its own descriptor and a lease on "
      "the whole file. bmapfs: read lease, then the holder blocks in "
      "bmap_client_events_wait (BMAP_IOC_EVENTS with BMAP_EVENTS_WAIT: "
      "bmapfs answers the waiting call when the recall comes, so the "
      "reply is the wake-up) and releases. *poll + 1 call*: poll() for "
      "POLLPRI, then one call that reads the event and gives the lease "
      "back (bmap_client_events_release, BMAP_EVENTS_RELEASE); *poll + "
      "2 calls*: BMAP_IOC_EVENTS and BMAP_IOC_RELEASE apart, as before. "
      "*wait + release*: the holder blocks in "
      "bmap_client_events_wait_release (BMAP_EVENTS_WAIT with "
      "BMAP_EVENTS_RELEASE: it promises no device I/O under its leases "
      "while it waits), so bmapfs releases the lease as it posts the "
      "recall and answers the waiting call once the truncate is answered; "
      "the truncate waits for no holder to run. "
      "The breaker times ftruncate(fd, 0), each round 200 µs + 20 µs per "
      "holder after the last holder reported its lease: a holder reports "
      "before it enters the call it waits in, and without the pause the "
      "recall could find it still on its way there (in use a recall "
      "seldom comes the moment a lease is taken); the same pause for "
      "every mode and for the kernel. "
      "Kernel ext4: F_SETLEASE F_RDLCK, SIGIO on break, F_UNLCK; the "
      "breaker times open(O_WRONLY | O_TRUNC). Microseconds; each "
      "repetition's p50/p99 is over its rounds, the table shows the "
      "median (min–max) across repetitions.\n")
    w("*last wake* is the median time from the start of the truncate "
      "until the last holder had learnt of the recall (its events call "
      "or poll() returned, or SIGIO arrived); the rest of the latency is the holders giving "
      "their leases back and the operation finishing.\n")
    w("All columns of a row come from the same runs: the bmapfs modes, "
      "the floors and the kernel's lease break (on an ext4 image mounted "
      "beside bmapfs) take turns round by round, each on a file of its "
      "own, so that the host's quieter and busier spells reach all of "
      "them alike. "
      "*FUSE floor* is measured on the same bmapfs mount "
      "with no lease: the breaker wakes each holder with a signal, as the "
      "kernel's lease break does, each holder makes one FUSE ioctl round "
      "trip (BMAP_IOC_GETSTATE), the least any holder must do to tell a "
      "FUSE server it is done, and then the breaker times the same "
      "ftruncate with no lease left to recall; *2 RTT* adds the round "
      "trip the kernel makes when poll() is woken (FUSE_POLL), which a "
      "holder woken through poll() pays too.\n")
    w("*truncate alone* is the same ftruncate on the same mount with no "
      "holder and no lease: the FUSE round trip of the operation itself, "
      "which a recall whose holders need not run cannot go under "
      "(the floor named for the *wait + release* rows). p99 is "
      f"{p99_rank_text(int(run_param('recall_rounds') or 100))}, so on a "
      "busy host its swings are mostly the host's own noise; the p50 rows "
      "are the steadier comparison. "
      f"Truncate alone: p50 {cell('recall', 'fuse-truncate', 'p50', '0', 1e-3)}"
      f" µs, p99 {cell('recall', 'fuse-truncate', 'p99', '0', 1e-3)} µs.\n")
    w("| holders | bmapfs p50 | bmapfs p99 | bmapfs last wake | "
      "wait + release p50 | wait + release p99 | "
      "poll + 1 call p50 | poll + 2 calls p50 | FUSE floor 1 RTT p50 | "
      "FUSE floor 1 RTT p99 | FUSE floor 2 RTT p99 | kernel p50 | "
      "kernel p99 | kernel last wake | bmapfs p99 < 1 ms | "
      "p99 vs kernel (≤1) | wait + release p99 vs kernel (≤1) |")
    w("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
      "---|")
    for h in HOLDERS:
        p99 = med("recall", "bmapfs", "p99", h)
        kp99 = med("recall", "kernel-ext4", "p99", h)
        fl1 = med("recall", "fuse-floor1", "p99", h)
        trunc = med("recall", "fuse-truncate", "p99", "0")
        trunc50 = med("recall", "fuse-truncate", "p50", "0")
        j = judge("recall", f"p99 with {h} holders (ms)",
                  p99 / 1e6 if p99 is not None else None, "<1",
                  ok_if_ge=False,
                  floor=fl1 / 1e6 if fl1 is not None else None)
        jk = judge("recall", f"p99 {h} holders vs kernel lease",
                   ratio(p99, kp99), "≤1", ok_if_ge=False,
                   floor=ratio(fl1, kp99))
        jw = judge("recall",
                   f"p99 {h} holders, wait + release vs kernel lease",
                   ratio(med("recall", "bmapfs-waitrel", "p99", h), kp99),
                   "≤1", ok_if_ge=False, floor=ratio(trunc, kp99),
                   floor_name="truncate alone")
        kp50 = med("recall", "kernel-ext4", "p50", h)
        judge("recall", f"p50 {h} holders, wait + release vs kernel lease",
              ratio(med("recall", "bmapfs-waitrel", "p50", h), kp50), "≤1",
              ok_if_ge=False, floor=ratio(trunc50, kp50),
              floor_name="truncate alone")
        w(f"| {h} | {cell('recall', 'bmapfs', 'p50', h, 1e-3)} | "
          f"{cell('recall', 'bmapfs', 'p99', h, 1e-3)} | "
          f"{cell('recall', 'bmapfs', 'wake_p50', h, 1e-3)} | "
          f"{cell('recall', 'bmapfs-waitrel', 'p50', h, 1e-3)} | "
          f"{cell('recall', 'bmapfs-waitrel', 'p99', h, 1e-3)} | "
          f"{cell('recall', 'bmapfs-poll', 'p50', h, 1e-3)} | "
          f"{cell('recall', 'bmapfs-2calls', 'p50', h, 1e-3)} | "
          f"{cell('recall', 'fuse-floor1', 'p50', h, 1e-3)} | "
          f"{cell('recall', 'fuse-floor1', 'p99', h, 1e-3)} | "
          f"{cell('recall', 'fuse-floor2', 'p99', h, 1e-3)} | "
          f"{cell('recall', 'kernel-ext4', 'p50', h, 1e-3)} | "
          f"{cell('recall', 'kernel-ext4', 'p99', h, 1e-3)} | "
          f"{cell('recall', 'kernel-ext4', 'wake_p50', h, 1e-3)} | {j} | "
          f"{jk} | {jw} |")
    w("")
    rv = samples.get(("recall", "bmapfs", "revokes", "all"))
    if rv:
        w(f"\nLeases bmapfs revoked during the recall runs (mounted with "
          f"lease_break_time=5 s), per repetition: "
          f"{', '.join(f'{x:.0f}' for x in rv)}. A revoke means a "
          "cooperating holder had not given its lease back within 5 s, "
          "so that round's truncate took the full break time; any "
          "figure near 5,000,000 µs above is such a round.")
    w("")


def plot_recall():
    rows = []
    for h in HOLDERS:
        rows.append([h] + [(med("recall", v, p, h) or float("nan")) / 1e3
                           for v in ("bmapfs", "kernel-ext4")
                           for p in ("p50", "p99")])
    dat = write_dat("recall.dat", rows)
    return gnuplot("recall.svg", f"""
set title 'Truncate latency with cooperating lease holders'
set logscale xy
set xlabel 'holders'
set ylabel 'microseconds'
set grid
set key top left
set arrow from 1,1000 to 100,1000 nohead dt 2
set label 'target p99 1 ms' at 1.2,1300
plot '{dat}' using 1:2 with linespoints title 'bmapfs p50', \
     '' using 1:3 with linespoints title 'bmapfs p99', \
     '' using 1:4 with linespoints title 'kernel F_SETLEASE p50', \
     '' using 1:5 with linespoints title 'kernel F_SETLEASE p99'
""")


def section_scale():
    w("## 6. Scale: lookups at 1M extents with a writer running\n")
    n = next((k[3] for k in samples if k[0] == "scale"), None)
    if n is None:
        w("Not measured.\n")
    else:
        w(f"bmap_xmap_lookup at random blocks of a map of {n} one-block "
          "extents, first idle, then while a second thread keeps "
          "rewriting random records (copy-on-write updates published "
          "with RCU). Median (min–max).\n")
        w("| figure | value |")
        w("|---|---|")
        w(f"| lookup, idle (ns) | {cell('scale', 'xmap', 'idle', n)} |")
        w(f"| lookup, writer running (ns) | "
          f"{cell('scale', 'xmap', 'writer', n)} |")
        w(f"| writer updates/s meanwhile | "
          f"{cell('scale', 'xmap', 'writer_ops', n)} |")
        w(f"| heap bytes per extent | "
          f"{cell('scale', 'xmap', 'bytes_per_extent', n)} |")
        i, wr = med("scale", "xmap", "idle", n), med("scale", "xmap",
                                                      "writer", n)
        if i and wr:
            w(f"\nA running writer makes lookups {wr / i:.2f}× slower "
              "(2 cores: the writer's copy-on-write traffic competes for "
              "the same caches); lookups never block.")
    xm = os.path.join(bench, "out", "xmap.txt")
    if os.path.exists(xm):
        w("\nFigures of the in-process extent-map micro-benchmark "
          "(`bench/out/xmap.txt`, from `make -C bench`):\n")
        w("```")
        w(open(xm).read().rstrip())
        w("```")
    else:
        w("\n`bench/out/xmap.txt` (the extent-map micro-benchmark of "
          "`make -C bench`) was not present when this report was "
          "written.")
    w("")


def section_profile():
    w("## Why targets are missed, and what would close them\n")
    misses = [v for v in verdicts if v[4] != "PASS"]
    if not misses:
        w("Every target passed in this run.\n")
    poll = run_param("halt_poll_ns")
    host = run_param("host_halt_poll_ns")
    if poll is not None:
        w(f"- **Wake-ups on this host.** The run polled {int(poll) / 1000:g} "
          "µs before halting an idle vCPU (the host's own setting: "
          f"{int(host or 0) / 1000:g} µs; see the top). Every FUSE request "
          "and reply, and every lease-break signal, wakes a thread that may "
          "sleep on the other vCPU; on a guest that halts at once, each "
          "such wake-up is a trip through the hypervisor. "
          + halt_poll_text())
    else:
        w("- **Wake-ups on this host.** Idle vCPUs halted at once in this "
          "run (no haltpoll cpuidle driver; see the top): every FUSE "
          "request and reply, and every lease-break signal, that wakes a "
          "thread sleeping on the other vCPU is a trip through the "
          "hypervisor, tens of µs. Kernel calls that wake nobody (a create "
          "or a cached stat on ext4, FIEMAP) do not pay it, so the ratios "
          "of FUSE against them come out lower than on a guest that polls "
          "before halting; compare with the null FUSE server and the FUSE "
          "floors of the same run.")
    for line in notes.get("profile", []):
        w(f"- {line}")
    cu = {k[2]: med(*k) for k in samples if k[0] == "profile"}
    for rw in ("write-1", "randread-1", "randwrite-2"):
        wall = cu.get(f"wall_{rw}")
        if wall:
            u, s = cu.get(f"cpu_user_{rw}", 0), cu.get(f"cpu_sys_{rw}", 0)
            kind, jobs = rw.split("-")
            w(f"- bmapfs daemon CPU during a {wall / 1000:.1f} s fio "
              f"{kind} ({jobs} job(s)): user {u:.0f} ms, system "
              f"{s:.0f} ms = {(u + s) / wall * 100:.0f}% of one core "
              "(2 cores in the machine).")
    for what, label in (("data", "fio seq write + 4 KiB random read"),
                        ("meta", "create/stat/unlink of 2000 files")):
        prof = os.path.join(OUT, f"profile-{what}.txt")
        if os.path.exists(prof) and os.path.getsize(prof):
            w(f"\nHottest functions of the bmapfs daemon during {label} "
              "(valgrind --tool=callgrind, instruction counts; percentages "
              "of the daemon's total):\n")
            w("```")
            w(open(prof).read().rstrip())
            w("```")
    w("")
    areas = {v[0] for v in misses}
    deep = deepest_hot("data")
    if "data" in areas and deep:
        w(f"- **Profile, data path:** {deep[1]:.0f}% of the daemon's "
          f"instructions under fio are spent inside `{deep[0]}` "
          "(inclusive). "
          + ("Each write converts the unwritten blocks it covered to "
             "written through libext2fs block by block "
             "(ext2fs_extent_set_bmap), and every one of those rewrites "
             "the inode and recomputes its crc32c: converting whole "
             "extents in one extent-record update per request (and "
             "writing the inode once) would remove most of it."
             if "convert" in deep[0] else ""))
    meta_prof = prof_text("meta")
    if "metadata" in areas and "ext2fs_process_dir_block" in meta_prof:
        w("- **Profile, metadata:** the hottest code is "
          "`ext2fs_process_dir_block`: libext2fs finds names by scanning "
          "the directory's blocks linearly (no htree lookup), so create, "
          "stat and unlink cost O(files in the directory) each.")
    if "data" in areas:
        w("- **Data path.** Every bmapfs read or write is a FUSE round "
          "trip: the request is copied through /dev/fuse to a daemon "
          "thread, which looks the extent up (lock-free, sub-microsecond, "
          "section 3) and does a pread/pwrite on the image, then replies; "
          "a read of 64 KiB or more replies from the image mapped in "
          "memory instead, so the kernel copies the image's page cache "
          "into the reader once (pread and a reply from a buffer copy "
          "twice). "
          "Random 4 KiB reads run with caches dropped, so each one is a "
          "read of the image file from the disk for every filesystem "
          "compared; bmapfs adds its round trip to a disk read, and "
          "fuse2fs, ext4 and bmapfs end up close together; the "
          "pass-through server's rows, same run, show what the round "
          "trip alone leaves of the disk's speed. The daemon's CPU "
          "share above shows how much of each request is the server "
          "itself. What would close it: FUSE passthrough "
          "(`FUSE_PASSTHROUGH`, Linux 6.9+) or fuse-iomap, letting the "
          "kernel do the I/O at the extents bmapfs hands out, and "
          "readahead of the extents a reader is about to touch.")
    if any(v[1].startswith("randread") and v[1].endswith("vs fuse2fs")
           and v[4] != "PASS" for v in verdicts):
        randread_why()
    if "metadata" in areas:
        meta_why()
    if "buffered" in areas:
        buffered_why()
    if any(v[1] == "randread vs raw image" and v[4] != "PASS"
           for v in verdicts):
        fl = rread_floor()
        w("- **Random reads vs the raw image.** A cold 4 KiB read through "
          "bmapfs is a FUSE round trip wrapped around the same read of "
          "the image file (a pread at the extent's offset, through the "
          "image's page cache)."
          + (f" The round trip measured in this run ({fl[0]:.1f} µs) "
             f"against a raw read of {fl[1]:.1f} µs puts the ceiling of "
             f"any FUSE server at {fl[2]:.2f}× the raw image, below the "
             "0.9 target whenever the disk answers faster than about "
             f"{9 * fl[0]:.0f} µs." if fl else "")
          + rread_image_text()
          + " What would close it is no round trip per read: FUSE "
          "passthrough maps a FUSE file onto a whole backing file, not "
          "onto extents of an image, and fuse-iomap (the kernel doing the "
          "I/O at extents the server hands out) is not in Linux 6.12 nor "
          "in Debian 12's libfuse 3.14; the lease DMA path (section 2) is "
          "the way to raw speed today.")
    if "dma" in areas:
        mb = next((k[3] for k in samples if k[0] == "dma"), "?")
        ph = [med("dma", "bmapfs", f"phase_{p}", mb) for p in
              ("map", "io", "commit")]
        rw = med("dma", "bmapfs", "raw_write", mb)
        txt = ""
        if all(x is not None for x in ph) and rw:
            raw_ms = float(mb) / rw * 1e3
            proto = (ph[0] + ph[2]) / sum(ph) * 100
            txt = (f" In this run the protocol (lease + map, commit + "
                   f"release) was {proto:.0f}% of the lease write; its "
                   f"device I/O phase alone took {ph[1]:.0f} ms against "
                   f"{raw_ms:.0f} ms for the identical raw writes (the "
                   "order of the two alternates between repetitions), so "
                   "whatever the protocol does not explain is the shared "
                   "disk's variance (see the min–max spread of *raw*).")
        w("- **DMA path.** The lease path pays for the lease, one map "
          "call per 32 extents and a durable commit (image fsync) inside "
          "the timing." + txt + " What would close the protocol part: "
          "map larger ranges per call (more extents per BMAP_IOC_MAP) and "
          "a commit that syncs only the blocks it converted.")
    if "map" in areas:
        sizes = frag_sizes()
        rtt = med("map", "bmapfs-ioctl", "rtt", sizes[0]) if sizes else None
        for n in sizes[-1:]:
            whole = med("map", "bmapfs-ioctl", "whole", n)
            recs = med("map", "bmapfs-ioctl", "extents", n)
            if whole and recs and rtt:
                calls = -(-(recs - 32) // 508) + 1 if recs > 32 else 1
                per = whole / calls
                w(f"- **Map calls, whole file at {n} extents:** "
                  f"{calls:.0f} calls of up to 508 records took "
                  f"{per / 1e3:.0f} µs each, against a FUSE ioctl round "
                  f"trip of {rtt / 1e3:.0f} µs."
                  + (" The extra cost grows with what the lease has "
                     "already mapped: `bmap_pin_charge()` "
                     "(libbmap/engine/quarantine.c) compares every range a "
                     "map call returns with every range the lease mapped "
                     "before, and re-normalizes that list, so mapping a "
                     "whole file is quadratic in its extents. A sorted "
                     "structure with binary search (or an interval tree) "
                     "for the lease's mapped ranges would make it "
                     "O(log n) per range." if per > 3 * rtt else ""))
        w("- **Map calls.** BMAP_IOC_MAP travels through FUSE (an ioctl "
          "request and reply, plus the lease lookup), whereas FIEMAP is "
          "answered inside the kernel; the in-process lookup itself costs "
          "well under a microsecond (xmap/engine columns), so the "
          "difference is the transport. A lease holder does not need the "
          "transport for lookups: the client library answers them from "
          "the extents its lease was handed (*client lookup*), which is "
          "what the ≤0.5 target measures. A single ioctl point map stays "
          "a FUSE round trip; what would close the ≤3 rows is a "
          "kernel-side map cache as in famfs's FUSE_GET_FMAP. Whole files "
          "go in BMAP_IOC_MAP_LARGE calls of up to 508 extents (the "
          "largest argument an ioctl number can describe, 16 KiB).")
    if "recall" in areas:
        parts = []
        for h in HOLDERS:
            tot = med("recall", "bmapfs", "p50", h)
            wk = med("recall", "bmapfs", "wake_p50", h)
            if tot and wk is not None:
                parts.append(f"{h} holder(s): {wk / 1e3:.0f} of "
                             f"{tot / 1e3:.0f} µs ({wk / tot * 100:.0f}%)")
        fl = []
        for h in HOLDERS:
            f1 = med("recall", "fuse-floor1", "p99", h)
            k = med("recall", "kernel-ext4", "p99", h)
            if f1 and k:
                fl.append(f"{h} holder(s): floor {f1 / 1e3:.0f} µs against "
                          f"the kernel's {k / 1e3:.0f} µs")
        w("- **Recall.** The breaker's truncate waits for every holder to "
          "learn of the recall and answer through the mount. A holder "
          "blocked in BMAP_IOC_EVENTS with BMAP_EVENTS_WAIT is woken by "
          "bmapfs's reply to that call and answers with one "
          "BMAP_IOC_RELEASE: one FUSE round trip per holder. Waiting in "
          "poll() costs a FUSE poll notification plus the kernel's "
          "FUSE_POLL round trip before the holder even asks for its event "
          "(*poll + 1 call*, with BMAP_EVENTS_RELEASE; *poll + 2 calls* was "
          "the answer before). Median time until the last holder had "
          "learnt of the recall: "
          + "; ".join(parts) + ". "
          "The kernel's lease break does the same in-kernel with a signal "
          "and one fcntl. A FUSE holder cannot answer in less than one "
          "round trip through the daemon, and with many holder processes "
          "on 2 cores those round trips queue behind each other; the "
          "*FUSE floor* columns measure exactly that and the truncate "
          "itself, without leases, in the same run"
          + (": " + "; ".join(fl) if fl else "") + ". "
          "Where bmapfs's p99 is above the kernel's, compare it with the "
          "floor: a floor above the kernel's p99 means no design inside "
          "FUSE (Debian 12's libfuse 3.14, no in-kernel lease agent) can "
          "reach the kernel's figure at that holder count; bmapfs's p50 "
          "next to the floor's p50 shows how much of the rest is "
          "bmapfs's own. That floor binds a holder that must run "
          "before its lease can go. A holder that waits with "
          "bmap_client_events_wait_release has promised no I/O while it "
          "waits, so bmapfs releases its lease inside the recall and "
          "answers the holder once the truncate is answered (one answer "
          "itself, several from another thread): the truncate pays "
          "bmapfs's own work per lease (find the waiter, release, queue "
          "the answer), not a context switch and a round trip "
          "(*wait + release* columns)."
          + waitrel_miss_text())
    w("")


def waitrel_miss_text():
    """Where a missed wait + release row's time goes, from this run."""
    bare = med("recall", "fuse-truncate", "p50", "0")
    parts = []
    for h in HOLDERS:
        if not any(v[1] in (f"p99 {h} holders, wait + release vs kernel "
                            "lease", f"p50 {h} holders, wait + release vs "
                            "kernel lease") and v[4] != "PASS"
                   for v in verdicts):
            continue
        wr = med("recall", "bmapfs-waitrel", "p50", h)
        k = med("recall", "kernel-ext4", "p50", h)
        if wr and bare and k:
            parts.append(f"at {h} holder(s) the p50 was {wr / 1e3:.1f} µs "
                         f"against {bare / 1e3:.1f} µs for the truncate "
                         f"alone and {k / 1e3:.1f} µs for the kernel")
    if not parts:
        return ""
    return (" Where a *wait + release* row misses: " + "; ".join(parts)
            + ". The difference to the truncate alone is bmapfs's own: "
            "the release inside the recall (the engine finds the waiter, "
            "releases its lease and queues the answer, taking its lease "
            "lock several times and allocating the notification), and the "
            "wake-ups that follow the truncate's reply (the holder "
            "process's, and with several holders first the thread that "
            "answers them) competing with the breaker's return for the 2 "
            "CPUs. The answers go out only after the truncate's reply, so "
            "what is left on the truncate's path is the engine's work. "
            "With one "
            "holder the kernel's own figure is a few tens of microseconds, "
            "so the ratio moves with the host's noise from run to run.")


def randread_why():
    pts = [ratio(med("data", "bmapfs", "randread", j),
                 med("data", READ_BOUND, "randread", j)) for j in "12"]
    raw = ratio(med("buffered", "raw-image", "rread", "2"),
                med("buffered", "raw-image", "rread", "1"))
    w("- **Cold random reads vs fuse2fs.** fuse2fs answers one request "
      "at a time, so at 2 jobs the ≥2× target asks bmapfs for twice "
      "what one reader gets through FUSE. The disk itself gives two raw "
      "readers "
      + (f"{raw:.2f}× one reader's IOPS in this run" if raw else
         "well under twice one reader's IOPS")
      + ", and a FUSE read costs CPU on both sides of the channel: three "
      "wakeups (reader to server, disk to server, server to reader) "
      "against one for a raw read. Measured once with perf sched on this "
      "2-CPU machine: reader and server together spent about 72 µs of "
      "CPU per cold read, a raw pread 26 µs, so two readers and their "
      "server threads queue for the two CPUs. The pass-through server, "
      "which does nothing but the pread, is the bound: bmapfs reached "
      + " and ".join(f"{r:.2f}×" for r in pts if r is not None)
      + " of its IOPS at 1 and 2 jobs in this run, so the rows are at "
      "FUSE's own cost on this machine, not bmapfs's. Tried and "
      "measured without gain: reading the image with O_DIRECT, and "
      "busy-polling /dev/fuse for 20-100 µs before sleeping (no change "
      "at 20 µs, fewer IOPS at 100 µs). What would close it is a read "
      "that does not go through the server: fuse-iomap or the lease "
      "DMA path (section 2).")


def meta_why():
    n, rtt = meta_n(), bmapfs_rtt()
    parts = []
    own = []	# ops where the null server fits and bmapfs does not
    for op, k in META_RTTS.items():
        b, e = med("metadata", "bmapfs", op, n), \
            med("metadata", "ext4", op, n)
        null = med("metadata", "nullfs", op, n)
        if b and e and rtt:
            parts.append(f"{op} {1e6 / b:.0f} µs per operation, of which "
                         f"{k} round trip(s) = {k * rtt / 1e3:.0f} µs"
                         + (f" and the null FUSE server's whole operation "
                            f"{1e6 / null:.0f} µs" if null else "")
                         + f"; 0.3× ext4 allows {1e6 / (0.3 * e):.0f} µs")
        if b and e and null and null >= 0.3 * e and b < 0.3 * e:
            own.append(f"{op} (bmapfs adds {1e6 / b - 1e6 / null:.0f} µs "
                       "to the null server's operation)")
    w("- **Metadata.** Every create, uncached stat and unlink is one to "
      "three FUSE round trips (table in section 5), and the server's own "
      "work behind them: names come from the name cache, directory "
      "blocks are edited in place, checksums use the CPU's crc32c, and "
      "one worker thread serves a caller's run of them (fuse/loop.c). "
      + ("In this run: " + "; ".join(parts) + ". " if parts else "")
      + "Where the null FUSE server alone exceeds the 0.3× budget, no "
      "FUSE server can meet it: kernel ext4 answers from its own caches "
      "without a context switch. What would close it: fewer round trips "
      "(the GETATTR of the directory after each change is the kernel's "
      "permission check with default_permissions, needed for POSIX "
      "ACLs), and FUSE over io_uring (Linux 6.14, libfuse 3.17), which "
      "Debian 12 does not ship."
      + (" Where the null server fits and bmapfs does not, the miss is "
         "bmapfs's own: " + "; ".join(own) + ". A create writes the new "
         "inode and the directory block through to the image (the "
         "directory's inode once per tick of the coarse clock, as ext4 "
         "stamps it), under libext2fs's allocator and checksums, with "
         "libext2fs's block cache off so that nothing it holds goes "
         "stale or stays dirty: microseconds of work where the budget "
         "leaves about as many. Closing it "
         "takes a create answered from memory, with the image written "
         "behind it by a thread that fsync and sync drain: a write-back "
         "metadata cache, which bmapfs does not have." if own else ""))


def buffered_why():
    ext = med("buffered", "ext4", "buffered-fsync64", 1)
    b = med("buffered", "bmapfs", "buffered-fsync64", 1)
    w("- **Random buffered writes with fsync.** Without a writeback cache "
      "every 4 KiB write(2) is a FUSE round trip that bmapfs answers "
      "after writing the image's page cache, where kernel ext4 copies "
      "into its page cache and returns; the fsync is one fdatasync of "
      "the image (plus the bitmaps when blocks were allocated). "
      + (f"Per 64 writes + fsync: bmapfs {64e3 / b:.1f} ms, ext4 "
         f"{64e3 / ext:.1f} ms. " if b and ext else "")
      + fsync64_split()
      + fsync64_floor_text()
      + "The writeback cache would batch the writes, but it lets the "
      "kernel extend a sealed file (S3) without asking the server, so "
      "bmapfs does not take it; a write into an unwritten extent "
      "(fallocate) also converts that extent in the image's extent tree "
      "at once, where ext4 converts at writeback.")


def fsync64_lat(variant):
    """Mean (write ns, fsync ns) of @variant's fsync/64 runs."""
    return (med("buffered", variant, "fsync64-write-lat", 1),
            med("buffered", variant, "fsync64-sync-lat", 1))


def fsync64_pt_text(variant, e):
    """' reached R× ext4 (W µs per write, S ms per fsync)', or ''."""
    v = med("buffered", variant, "buffered-fsync64", 1)
    if not (v and e):
        return ""
    lat = fsync64_lat(variant)
    return (f" reached {v / e:.2f}× ext4"
            + (f" ({lat[0] / 1e3:.1f} µs per write, "
               f"{lat[1] / 1e6:.2f} ms per fsync)" if all(lat) else ""))


def fsync64_floor_text():
    fl = fsync64_floor()
    e = med("buffered", "ext4", "buffered-fsync64", 1)
    pt = fsync64_pt_text("passthrough", e)
    pi = fsync64_pt_text("passthrough-image", e)
    text = (f"A server that answered every write and fsync in no time "
            f"would still pay 64 round trips and the disk's flush per "
            f"batch: at best {fl:.2f}× ext4 in this run. "
            if fl is not None else "")
    if pt:
        text += ("The pass-through server, which only pwrites each write "
                 "to a file of the same size on the same disk and "
                 f"fdatasyncs it on fsync,{pt}. ")
    if pi:
        text += ("Over bmapfs's image instead, each write a pwrite at "
                 "buf.0's own block and each fsync an fdatasync of the "
                 f"image, the same server{pi}: the same writes cost more "
                 "in the image file (a sparse file made by mkfs and "
                 "filled through the host's page cache) than in a file "
                 "written for the purpose, for any server that keeps its "
                 "data there (kernel ext4 on loop writes the same kind of "
                 "image). ")
    if pt or pi:
        text += ("The last of these runs is the *floor* of the row; "
                 "bmapfs's own share is what it adds to it. ")
    return text


def rread_image_text():
    """The pass-through over the image's blocks against bmapfs, if run."""
    b, raw, pi = (med("buffered", v, "rread", 1)
                  for v in ("bmapfs", "raw-image", "passthrough-image"))
    if not (b and raw and pi):
        return ""
    return (f" The pass-through server over the image's own blocks read "
            f"{pi / raw:.2f}× the raw image, and bmapfs {b / pi:.2f}× that "
            "server, with the same system calls per read (one read of "
            "/dev/fuse, one pread of the image, one writev) and the same "
            "page cache use (one image page per read: readahead does not "
            "engage on random reads); the disk's spread between "
            "repetitions is wide (see the min–max).")


def fsync64_split():
    """Mean write and fsync latency of the fsync/64 runs, as a sentence."""
    lat = {fs: fsync64_lat(fs) for fs in ("bmapfs", "ext4")}
    if not all(all(v) for v in lat.values()):
        return ""
    (bw, bs), (ew, es) = lat["bmapfs"], lat["ext4"]
    return (f"Mean latency of one write: bmapfs {bw / 1e3:.1f} µs, ext4 "
            f"{ew / 1e3:.1f} µs (64 of them: {64 * bw / 1e6:.2f} against "
            f"{64 * ew / 1e6:.2f} ms); of one fsync: bmapfs "
            f"{bs / 1e6:.2f} ms, ext4 {es / 1e6:.2f} ms. ")


def prof_text(what):
    p = os.path.join(OUT, f"profile-{what}.txt")
    return open(p).read() if os.path.exists(p) else ""


def deepest_hot(what):
    """The last (deepest) bmapfs/ext4img/libbmap function above 30% inclusive."""
    best = None
    for line in prof_text(what).splitlines():
        if line.startswith("# exclusive"):
            break
        f = line.split()
        if len(f) < 3 or not any(d in f[-1] for d in
                                ("fuse/", "ext4img/", "libbmap/")):
            continue
        pct = float(f[1].strip("(%)") or 0) if f[1] != "(" else \
            float(f[2].strip("%)"))
        if pct >= 30:
            best = (f[-1].split(":")[-1], pct)
    return best


def halt_poll_text():
    """The recall section's one-holder runs under both idle settings."""
    f = {k: (med("recall", f"halt-{k}-fuse-floor1", "p50", "1"),
             med("recall", f"halt-{k}-kernel-ext4", "p50", "1"))
         for k in ("host", "run")}
    if None in f["host"] + f["run"]:
        return ""
    return ("Measured in the recall section, one holder, p50: the FUSE "
            f"floor {f['host'][0] / 1e3:.1f} µs with the host's setting "
            f"against {f['run'][0] / 1e3:.1f} µs with the run's, the "
            f"kernel's lease break {f['host'][1] / 1e3:.1f} against "
            f"{f['run'][1] / 1e3:.1f} µs (floor/kernel "
            f"{ratio(f['host'][0], f['host'][1]):.2f} against "
            f"{ratio(f['run'][0], f['run'][1]):.2f}). The absolute latencies "
            "follow this setting of the machine more than either "
            "filesystem; a ratio moves less when both sides wake threads, "
            "and most against kernel calls that wake none (FIEMAP, a "
            "cached stat), which polling does not speed up.")


def section_verdicts():
    w("## Targets at a glance\n")
    w("| area | figure | ratio | target | result |")
    w("|---|---|---|---|---|")
    for a, f, r, t, v in verdicts:
        w(f"| {a} | {f} | {r} | {t} | {v} |")
    w("")


body = []
md_saved = md
md = body
w = body.append
section_data()
section_buffered()
section_dma()
section_map()
section_recall()
section_meta()
section_scale()
md = md_saved
w = md.append

w("# bmap benchmark report\n")
w("Generated by `make bench` (bench/suite/run.sh); every figure below "
  "comes from one run on one machine, side by side. Absolute numbers "
  "depend on the (shared) host; the ratios are what count.\n")
for line in notes.get("meta", []):
    w(f"- {line}")
w("")
plots = [p for p in (plot_data(), plot_map(), plot_recall()) if p]
section_verdicts()
md.extend(body)
section_profile()
checks = {k[1]: (sum(v), len(v)) for k, v in samples.items()
          if k[0] == "fsck"}
if checks:
    w("## Image consistency\n")
    w("After every unmount of an ext4 image, `e2fsck -fn` checks it; a "
      "finding is listed here and repaired (`e2fsck -fy`) so the next "
      "filesystem starts from a clean image.\n")
    w("| filesystem | unmounts checked | images with problems |")
    w("|---|---|---|")
    for fs_, (bad, n) in sorted(checks.items()):
        w(f"| {fs_} | {n} | {bad:.0f} |")
    w("")
    for line in notes.get("fsck", []):
        w(f"- {line}")
    w("")
for sec in ("data", "dma", "map", "recall", "meta_ops"):
    for line in notes.get(sec, []):
        w(f"- note ({sec}): {line}")
if plots:
    w("\n## Plots\n")
    for p in plots:
        w(f"![{os.path.basename(p)}]({p})\n")
w("Raw samples: `bench/out/suite/results.tsv` (section, variant, test, "
  "parameter, repetition, value, unit).")

with open(os.path.join(bench, "REPORT.md"), "w") as f:
    f.write("\n".join(md) + "\n")
