import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { text } from "node:stream/consumers";
import { afterAll, describe, expect, it } from "vitest";
import { isStorageKey, LocalDiskStorage } from "../src/media/storage.ts";

const root = await mkdtemp(join(tmpdir(), "tidings-storage-"));
afterAll(() => rm(root, { recursive: true, force: true }));

const KEY = "20260105090000000000" + "0123456789abcdef.mp3";

describe("LocalDiskStorage", () => {
  it("creates its directory and puts, gets and deletes files by key", async () => {
    const storage = await LocalDiskStorage.open(join(root, "a", "b"));
    await storage.put(KEY, Buffer.from("sound"));
    expect(await readdir(storage.dir)).toEqual([KEY]);
    const stream = await storage.get(KEY);
    expect(stream && (await text(stream))).toBe("sound");
    await storage.delete(KEY);
    expect(await storage.get(KEY)).toBeUndefined();
    await storage.delete(KEY); // a missing file is not an error
  });

  it("never overwrites a file", async () => {
    const storage = await LocalDiskStorage.open(join(root, "c"));
    await storage.put(KEY, Buffer.from("first"));
    await expect(storage.put(KEY, Buffer.from("second"))).rejects.toThrow();
    const stream = await storage.get(KEY);
    expect(stream && (await text(stream))).toBe("first");
  });

  it.each(["../escape.mp3", "/etc/passwd", "a/b", "", "20260105090000000000ZZZZ.mp3", `${KEY}/..`])(
    "refuses the key %j (only generated names, never paths)",
    async (key) => {
      expect(isStorageKey(key)).toBe(false);
      const storage = await LocalDiskStorage.open(join(root, "d"));
      await expect(storage.put(key, Buffer.from("x"))).rejects.toThrow(/not a storage key/);
      await expect(storage.get(key)).rejects.toThrow(/not a storage key/);
    },
  );
});
