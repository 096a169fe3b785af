import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { PrismaPg } from "@prisma/adapter-pg";
import { bindMigrationAwareSqlAdapterFactory } from "@prisma/driver-adapter-utils";
import type { SchemaEngine } from "@prisma/schema-engine-wasm";
import pg from "pg";

const require = createRequire(import.meta.url);

type WasmExports = Record<string, unknown>;

/** The slice of the WebAssembly API used here (Node has it; @types/node 20 does not declare it). */
declare const WebAssembly: {
  compile(bytes: Uint8Array): Promise<object>;
  instantiate(module: object, imports: Record<string, object>): Promise<{ exports: WasmExports }>;
};

type WasmBindings = typeof import("@prisma/schema-engine-wasm/schema_engine_bg") & {
  __wbg_set_wasm(exports: WasmExports): void;
};

let bindings: Promise<WasmBindings> | undefined;

/** The engine reports a Rust panic's message here before it throws. */
const panics = {
  last: "",
  set_message(message: string) {
    panics.last = message;
  },
};
(globalThis as { PRISMA_WASM_PANIC_REGISTRY?: typeof panics }).PRISMA_WASM_PANIC_REGISTRY = panics;

export function lastEnginePanic(): string {
  return panics.last;
}

/**
 * Prisma's schema engine compiled to wasm. The package's own entry imports the `.wasm` file as an ES module,
 * which Node cannot do, so the module is instantiated by hand with the JS glue as its import object.
 */
function loadBindings(): Promise<WasmBindings> {
  bindings ??= (async () => {
    const glue = (await import("@prisma/schema-engine-wasm/schema_engine_bg")) as WasmBindings;
    const wasmPath = require.resolve("@prisma/schema-engine-wasm/schema_engine_bg").replace(/\.js$/, ".wasm");
    const module = await WebAssembly.compile(await readFile(wasmPath));
    const instance = await WebAssembly.instantiate(module, {
      "./schema_engine_bg.js": glue,
    });
    glue.__wbg_set_wasm(instance.exports);
    (instance.exports.__wbindgen_start as () => void)();
    return glue;
  })();
  return bindings;
}

export interface OpenEngine {
  engine: SchemaEngine;
  /** Frees the engine and closes its connections (a template database must have none left). */
  close(): Promise<void>;
}

/** Opens a schema engine on the database at `url`; `datamodels` are `[path, content]` pairs of schema files. */
export async function openSchemaEngine(
  url: string,
  datamodels: [string, string][] = [],
): Promise<OpenEngine> {
  const { SchemaEngine } = await loadBindings();
  const pool = new pg.Pool({ connectionString: url, max: 2 });
  const adapter = bindMigrationAwareSqlAdapterFactory(new PrismaPg(pool));
  const log = (message: string) => {
    if (process.env.TIDINGS_DB_DEBUG) {
      process.stderr.write(`schema-engine: ${message}\n`);
    }
  };
  const engine = await SchemaEngine.new({ datamodels }, log, adapter);
  return {
    engine,
    close: async () => {
      engine.free();
      await pool.end();
    },
  };
}
