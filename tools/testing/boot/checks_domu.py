# SPDX-License-Identifier: GPL-2.0
"""Checks of the domU test (tools/testing/domu/domu.sh in dom0,
domu_test_side in the domU's /init): dom0's "domu" block holds its own
"key: value" lines and the domU's console, each line prefixed "domu| ".
"""

from parse import block, fmt_ranges, parse_p2m
from checks_unpop import check_balloon


# vcpus of tools/testing/domu/xenmm-domu.cfg and xenmm-pvh.cfg.
DOMU_VCPUS = 2


PVH_VCPUS = 2


def domu_res(res, name="domu"):
    """A domU's console, relayed in dom0's block NAME with a "NAME| "
    prefix, as a result of its own, like boot()'s."""
    import xenboot
    prefix = name + "| "
    lines = [x[len(prefix):] for x in res["blocks"].get(name) or []
             if x.startswith(prefix)]
    return {"status": "done" if "@@@XENMM-DONE@@@" in lines else "no DONE",
            "seconds": "?", "lines": lines, "arch": "x86_64", "domu": True,
            "blocks": xenboot.parse_blocks(lines)}


def dom0_side(res):
    """dom0's "key: value" lines; xl's progress output may precede a key."""
    return dict((k.split("\r")[-1].strip(), v) for k, v in (
        x.split(": ", 1) for x in res["blocks"].get("domu") or []
        if ": " in x and not x.startswith("domu| ")))


def check_domu_boot(res):
    d = domu_res(res)
    if not res["blocks"].get("domu"):
        return False, "no domu block from dom0"
    kv = dom0_side(res)
    if kv.get("create_rc") != "0":
        return False, f"xl create failed: rc {kv.get('create_rc')}"
    if d["status"] != "done":
        # What dom0 waited for in vain, and the domU's last word.
        waits = [x for x in res["blocks"].get("domu") or []
                 if x.startswith("timeout: ")]
        failed = [f"{k[:-3]} rc {v}" for k, v in kv.items()
                  if k.endswith("_rc") and v != "0"]
        last = next((x.strip() for x in reversed(d["lines"]) if x.strip()), "")
        return False, (f"the domU never printed its DONE marker; "
                       f"{'; '.join(waits + failed) or 'no wait timed out, no step failed'}; "
                       f"the domU's last line: {last[:160]!r}")
    info = dict(x.split(": ", 1) for x in block(d, "guest") or [] if ": " in x)
    if info.get("guest_type") != "PV" or "control_d" in info.get("capabilities", ""):
        return False, f"domU is {info.get('guest_type')}, caps {info.get('capabilities')!r}"
    return True, (f"PV domU (Linux {info.get('kernel')}, {info.get('MemTotal')}) "
                  f"created by xl in {kv.get('create_ms')} ms")


def domu_check(fn):
    """Run a dom0 check on the domU's own output."""
    def check(res):
        d = domu_res(res)
        if d["status"] != "done":
            return False, "the domU did not finish"
        return fn(d)
    return check


def check_domu_p2m_populated(res):
    """A PV domU's memory is pfns 0 up to its size, all populated: Xen
    builds it that way (Linux only marks the ISA range reserved on top)."""
    d = domu_res(res)
    ranges = parse_p2m(block(d, "p2m") or [])
    side = dict(x.split(": ", 1) for x in block(d, "domu_side") or [] if ": " in x)
    if not ranges or "start_kb" not in side:
        return False, "no P2M dump or no memory size from the domU"
    want = [(0, int(side["start_kb"]) // 4)]
    got = [(s, e) for s, e, k in ranges if k == "pfn"]
    if got != want or any(k == "abnormal" for _, _, k in ranges):
        return False, f"populated pfns {fmt_ranges(got)}, want {fmt_ranges(want)}"
    return True, f"pfns {fmt_ranges(got)} populated: the domU's {side['start_kb']} kB"


def check_domu_grant(res):
    kv = dom0_side(res)
    lines = res["blocks"].get("domu") or []
    scratch = [x for x in lines if x.startswith("iomem_mapped:") and "Xen scratch" in x]
    if kv.get("map_pattern", "").split(" ")[0] != "ok" or kv.get("map_unmapped") != "4":
        return False, f"map: {kv.get('map_pattern')}, unmapped {kv.get('map_unmapped')}"
    if not scratch:
        return False, "no Xen scratch in dom0's /proc/iomem while mapped"
    return True, (f"dom0 mapped the domU's grants {kv.get('map_refs')}, pattern ok, "
                  f"on {scratch[0].split(': ', 1)[1].strip()}")


def check_domu_save_restore(res):
    kv = dom0_side(res)
    side = dict(x.split(": ", 1) for x in block(domu_res(res), "domu_side") or []
                if ": " in x)
    for k in ("save_rc", "restore_rc"):
        if kv.get(k) != "0":
            return False, f"xl {k[:-3]} failed: rc {kv.get(k)}"
    if kv.get("domid_created") == kv.get("domid_restored"):
        return False, f"same domid after restore: {kv.get('domid_restored')}"
    before, after = side.get("pattern_before"), side.get("pattern_after")
    if not before or before != after:
        return False, f"pattern before save {before}, after restore {after}"
    p2m_before = parse_p2m(block(domu_res(res), "p2m") or [])
    p2m_after = parse_p2m([x[len("p2m_after_restore:"):] for x in
                           block(domu_res(res), "domu_side") or []
                           if x.startswith("p2m_after_restore:")])
    if not p2m_before or p2m_before != p2m_after:
        return False, f"P2M dump before save {p2m_before}, after restore {p2m_after}"
    # scribble wrote 8 MiB throughout; two whole rounds after the
    # restore read back every word it wrote before.
    at, rounds = side.get("scribble_round_at_restore"), side.get("scribble_rounds")
    if not at or not at.isdigit() or not rounds or int(rounds) < int(at) + 2 or \
            side.get("scribble_wrong") != "0":
        return False, (f"memory written across save/restore: rounds {rounds} "
                       f"(restored after {at}), wrong words {side.get('scribble_wrong')}")
    return True, (f"save {kv.get('save_ms')} ms ({int(kv.get('save_bytes', 0)) >> 20} MiB), "
                  f"restore {kv.get('restore_ms')} ms, domid {kv.get('domid_created')}"
                  f"->{kv.get('domid_restored')}, 8 MiB pattern and P2M dump intact, "
                  f"{side['scribble_mib']} MiB written through it: {rounds} rounds "
                  f"({at} before the restore), 0 wrong words")


def check_domu_migrate(res):
    """Live migration to this host while the domU's scribble writes:
    every word it wrote before must read back after it (log-dirty)."""
    kv = dom0_side(res)
    side = dict(x.split(": ", 1) for x in block(domu_res(res), "domu_side") or []
                if ": " in x)
    if kv.get("migrate_rc") != "0":
        return False, f"xl migrate: rc {kv.get('migrate_rc')} ({kv.get('migrate')})"
    if kv.get("domid_migrated") in (None, "", kv.get("domid_restored")):
        return False, (f"domid {kv.get('domid_restored')} before the migration, "
                       f"{kv.get('domid_migrated')} after")
    at, rounds = side.get("scribble_round_at_migrate"), side.get("scribble_rounds")
    if not at or not at.isdigit() or not rounds or not rounds.isdigit() or \
            int(rounds) < int(at) + 2 or side.get("scribble_wrong") != "0":
        return False, (f"memory written across the migration: rounds {rounds} "
                       f"(migrated after {at}), wrong words {side.get('scribble_wrong')}")
    return True, (f"live migration in {kv.get('migrate_ms')} ms, domid "
                  f"{kv.get('domid_restored')}->{kv.get('domid_migrated')}, scribble "
                  f"wrote through it: {rounds} rounds of {side['scribble_mib']} MiB "
                  f"({at} before it), 0 wrong words")


def check_domu_balloon(res):
    kv = dom0_side(res)
    if kv.get("mem_down_rc") != "0" or kv.get("mem_up_rc") != "0":
        return False, f"xl mem-set failed: {kv.get('mem_down_rc')}, {kv.get('mem_up_rc')}"
    return check_balloon(domu_res(res), "domu_side", 8192)


def check_domu_destroy_mapped(res):
    kv = dom0_side(res)
    lines = res["blocks"].get("domu") or []
    hold = dict(x[len("hold: "):].split(": ", 1) for x in lines
                if x.startswith("hold: ") and ": " in x[len("hold: "):])
    after = dict(x[len("unpopulated_after: "):].split(": ", 1) for x in lines
                 if x.startswith("unpopulated_after: ") and
                 ": " in x[len("unpopulated_after: "):])
    if hold.get("map_held") != "2" or kv.get("destroy_rc") != "0":
        return False, f"held {hold.get('map_held')}, destroy rc {kv.get('destroy_rc')}"
    if hold.get("map_unmapped") != "2":
        return False, "the held mapping was not unmapped after the destroy"
    if after.get("pages") != "0 free, 0 in use" or \
            not after.get("ranges", "").startswith("0 ") or after.get("bad frees") != "0":
        return False, (f"provider after: ranges {after.get('ranges')}, "
                       f"pages {after.get('pages')}, bad frees {after.get('bad frees')}")
    return True, (f"domU destroyed while dom0 mapped 2 of its pages ({kv.get('while_held')}); "
                  "after unmapping the provider holds no range and no page")


def check_pvh_boot(res):
    d = domu_res(res, "pvh")
    kv = dict(x.split(": ", 1) for x in res["blocks"].get("pvh") or []
              if ": " in x and not x.startswith("pvh| "))
    if kv.get("pvh_create_rc") != "0":
        return False, f"xl create of the PVH domU: rc {kv.get('pvh_create_rc')} (virt_caps {kv.get('virt_caps')})"
    info = dict(x.split(": ", 1) for x in block(d, "guest") or [] if ": " in x)
    if d["status"] != "done" or info.get("guest_type") != "PVH":
        return False, f"PVH domU: {d['status']}, guest_type {info.get('guest_type')}"
    return True, (f"PVH domU (Linux {info.get('kernel')}, {info.get('MemTotal')}) "
                  f"created in {kv.get('pvh_create_ms')} ms on virt_caps {kv.get('virt_caps')}")


def check_pvh_dom0_grant(d):
    """The PVH domU mapped dom0's grant through gntdev and read it back."""
    lines = block(d, "dom0_grant") or []
    rc = [x for x in d["blocks"].get("dom0_grant", []) if x.startswith("@@@XENMM-RC ")]
    said = dict(x.split(": ", 1) for x in lines if ": " in x)
    if rc != ["@@@XENMM-RC 0@@@"] or not said.get("map_pattern", "").startswith("ok ") or \
            "map_unmapped" not in said:
        return False, "; ".join(lines[-4:]) or "no dom0_grant block"
    return True, (f"dom0's grant refs {said.get('dom0_refs')} mapped through gntdev, "
                  f"pattern {said['map_pattern']}, unmapped")


def check_pvh_user_busy(d):
    """The PVH domU spent its 15 s busy in user mode and lost no word.

    Its timer interrupts then arrive from user mode, where one delivered
    twice (tools/testing/qemu/0001) kills the guest; the boot's status
    says whether it lived.  At least 1 s of user time (100 USER_HZ
    ticks, 250 timer interrupts at HZ=250) says the interrupts did arrive
    there."""
    said = dict(x.split(": ", 1) for x in block(d, "user_busy") or [] if ": " in x)
    try:
        utime = int(said.get("busy_utime_ticks", ""))
        rounds = int(said.get("scribble_rounds", ""))
        wrong = int(said.get("scribble_wrong", ""))
    except ValueError:
        return False, f"no scribble totals in the user_busy block: {said}"
    if said.get("busy_rc") != "0" or wrong or utime < 100:
        return False, (f"scribble: rc {said.get('busy_rc')}, {rounds} rounds, {wrong} wrong "
                       f"words, {utime} user ticks (want rc 0, 0 wrong, >= 100 ticks)")
    return True, (f"{utime / 100:.1f} s in user mode on a busy vCPU, timer interrupts "
                  f"taken there: scribble {rounds} rounds of {said.get('scribble_mib')} MiB, "
                  "0 wrong words")


def pvh_check(fn):
    """Run a check on the PVH domU's own output."""
    def check(res):
        d = domu_res(res, "pvh")
        if d["status"] != "done":
            return False, "the PVH domU did not finish"
        return fn(d)
    return check
