/**
 * The directory lock (SPEC §2: one Engine per directory, in any process). Checks the in-process
 * refusal, a real second process holding the directory (and dying with SIGKILL, which leaves its
 * LOCK file behind), and the pid checks that tell a stale LOCK from a live one.
 */
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { DatabaseLockedError, Engine } from "../../engine/index.js";
import { MemFs } from "../../engine/fs/mem-fs.js";
import { FixtureProcess, useScratch } from "../fixtures/harness.js";
import { hex, utf8 } from "../fixtures/kv-model.js";

const scratch = useScratch();

async function expectLocked(dir: string, holderPid: number): Promise<void> {
  const err = await Engine.open(dir).then(
    (e) => {
      scratch.track(e);
      return null;
    },
    (e: unknown) => e,
  );
  expect(err, `open of ${dir} should fail while process ${holderPid} holds it`).toBeInstanceOf(DatabaseLockedError);
  expect((err as DatabaseLockedError).holderPid).toBe(holderPid);
  expect((err as DatabaseLockedError).dir).toBe(path.resolve(dir));
}

/** Pid of a process that has certainly exited and been reaped. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ["-e", ""], { stdio: "ignore" });
  await new Promise((resolve) => child.on("exit", resolve));
  return child.pid!;
}

/** Start time of `pid` in clock ticks since boot, as /proc/<pid>/stat field 22 gives it. */
function startTime(pid: number): string {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, "latin1");
  return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19]!;
}

describe("lock within one process", () => {
  it("refuses a second open of the same directory until the first closes", async () => {
    const dir = scratch.dir();
    const first = scratch.track(await Engine.open(dir));
    await first.put(utf8("k"), utf8("v1"));
    const lockFile = path.join(dir, "LOCK");
    const content = fs.readFileSync(lockFile, "utf8");

    await expectLocked(dir, process.pid);
    // The same directory spelled differently is the same directory.
    await expectLocked(path.join(dir, "wal", ".."), process.pid);
    await expectLocked(dir + path.sep, process.pid);

    // The refused opens changed nothing: the first engine still owns the lock and works.
    expect(fs.readFileSync(lockFile, "utf8")).toBe(content);
    await first.put(utf8("k"), utf8("v2"));
    await first.close();
    expect(fs.existsSync(lockFile), "close() removes the LOCK file").toBe(false);

    const second = scratch.track(await Engine.open(dir));
    expect(hex(second.getSync(utf8("k"))!)).toBe(hex(utf8("v2")));
    await second.close();
  });

  it("locks per MemFs instance", async () => {
    const memFs = new MemFs();
    const a = scratch.track(await Engine.open("/db", { fs: memFs }));
    await expect(Engine.open("/db", { fs: memFs })).rejects.toBeInstanceOf(DatabaseLockedError);
    const other = scratch.track(await Engine.open("/db", { fs: new MemFs() }));
    await other.close();
    await a.close();
    const again = scratch.track(await Engine.open("/db", { fs: memFs }));
    await again.close();
  });
});

describe("lock across processes", () => {
  it("refuses while another process holds the directory, and takes over after it is SIGKILLed", async () => {
    const dir = scratch.dir();
    const holder = new FixtureProcess("lock-holder.ts", [dir]);
    try {
      const ready = await holder.waitForLine((l) => l.startsWith("ready "));
      expect(Number(ready.split(" ")[1])).toBe(holder.pid);

      await expectLocked(dir, holder.pid);
      await expectLocked(dir, holder.pid);

      await holder.kill();
      expect(fs.existsSync(path.join(dir, "LOCK")), "SIGKILL leaves the LOCK file behind").toBe(true);

      const engine = scratch.track(await Engine.open(dir));
      await engine.put(utf8("after"), utf8("kill"));
      expect(fs.readFileSync(path.join(dir, "LOCK"), "utf8").split(" ")[0]).toBe(String(process.pid));
      await engine.close();
    } finally {
      await holder.kill();
    }
  });

  it("opens after the other process closes the engine itself", async () => {
    const dir = scratch.dir();
    const holder = new FixtureProcess("lock-holder.ts", [dir]);
    try {
      await holder.waitForLine((l) => l.startsWith("ready "));
      await expectLocked(dir, holder.pid);
      holder.child.stdin.write("close\n");
      await holder.waitForLine((l) => l === "closed");
      expect(fs.existsSync(path.join(dir, "LOCK"))).toBe(false);
      const engine = scratch.track(await Engine.open(dir));
      await engine.close();
      expect((await holder.exited).code).toBe(0);
    } finally {
      await holder.kill();
    }
  });
});

describe("the LOCK file as others see it", () => {
  // A reader that met the LOCK file empty (created, not yet written) would take it for a stale lock
  // and take the directory over while its holder runs: the file must appear with its content.
  it("is never seen empty or half-written while another process takes and releases it", async () => {
    const dir = scratch.dir();
    const lockPath = path.join(dir, "LOCK");
    const cycler = new FixtureProcess("lock-cycler.ts", [dir, "3000"]);
    let seen = 0;
    let done = false;
    const bad: string[] = [];
    void cycler.waitForLine((l) => l.startsWith("done ")).then(() => (done = true), () => (done = true));
    try {
      while (!done) {
        for (let i = 0; i < 200; i++) {
          let content: string;
          try {
            content = fs.readFileSync(lockPath, "utf8");
          } catch {
            continue; // Not there at this moment.
          }
          seen++;
          if (!/^\d+ \d* [0-9a-f]{16}\n$/.test(content)) bad.push(JSON.stringify(content));
        }
        await new Promise((r) => setImmediate(r));
      }
      expect((await cycler.exited).code).toBe(0);
    } finally {
      await cycler.kill();
    }
    expect(bad, `${bad.length} of ${seen} reads saw an incomplete LOCK`).toEqual([]);
    expect(seen, "the reads met the LOCK file while it existed").toBeGreaterThan(50);
    expect(fs.readdirSync(dir), "no temp files are left").toEqual([]);
  });
});

describe("stale LOCK files", () => {
  it("a LOCK naming a dead process does not block", async () => {
    const dir = scratch.dir();
    const pid = await deadPid();
    fs.writeFileSync(path.join(dir, "LOCK"), `${pid} 12345 0123456789abcdef\n`);
    const engine = scratch.track(await Engine.open(dir));
    await engine.put(utf8("k"), utf8("v"));
    await engine.close();
    expect(fs.existsSync(path.join(dir, "LOCK"))).toBe(false);
  });

  describe.runIf(process.platform === "linux")("pid checks (Linux /proc)", () => {
    it("a LOCK naming a live process blocks; the same pid with another start time (pid reuse) does not", async () => {
      const dir = scratch.dir();
      const sleeper = spawn(process.execPath, ["-e", "setInterval(() => {}, 1000)"], { stdio: "ignore" });
      try {
        const pid = sleeper.pid!;
        const lockFile = path.join(dir, "LOCK");

        fs.writeFileSync(lockFile, `${pid} ${startTime(pid)} 0123456789abcdef\n`);
        await expectLocked(dir, pid);
        expect(fs.existsSync(lockFile), "a refused open leaves a live holder's LOCK alone").toBe(true);

        // Without a start time the pid alone decides.
        fs.writeFileSync(lockFile, `${pid}\n`);
        await expectLocked(dir, pid);

        // A live process that started at another time is not the one that wrote the LOCK.
        fs.writeFileSync(lockFile, `${pid} 1 0123456789abcdef\n`);
        const engine = scratch.track(await Engine.open(dir));
        await engine.close();
      } finally {
        sleeper.kill("SIGKILL");
      }
    });
  });
});
