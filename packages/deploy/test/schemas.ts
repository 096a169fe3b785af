import path from "node:path";
import { pathToFileURL } from "node:url";
import type { Manifest } from "./kustomize.ts";

interface SchemaError {
  instancePath: string;
  keyword: string;
  params: unknown;
}
type Validate = ((data: unknown) => boolean) & { errors?: SchemaError[] | null };

/**
 * The JSON schema of each kind infra/k8s uses, as the ajv validators `kubernetes-models` (the Kubernetes OpenAPI
 * schemas) and `@kubernetes-models/keda` (KEDA's CRDs) ship compiled: a kind missing here is an error, not a pass.
 */
const SCHEMAS: Record<string, [pkg: string, schema: string]> = {
  "v1/Namespace": ["kubernetes-models", "IoK8sApiCoreV1Namespace"],
  "v1/ConfigMap": ["kubernetes-models", "IoK8sApiCoreV1ConfigMap"],
  "v1/Secret": ["kubernetes-models", "IoK8sApiCoreV1Secret"],
  "v1/Service": ["kubernetes-models", "IoK8sApiCoreV1Service"],
  "v1/PersistentVolumeClaim": ["kubernetes-models", "IoK8sApiCoreV1PersistentVolumeClaim"],
  "apps/v1/Deployment": ["kubernetes-models", "IoK8sApiAppsV1Deployment"],
  "batch/v1/Job": ["kubernetes-models", "IoK8sApiBatchV1Job"],
  "policy/v1/PodDisruptionBudget": ["kubernetes-models", "IoK8sApiPolicyV1PodDisruptionBudget"],
  "autoscaling/v2/HorizontalPodAutoscaler": [
    "kubernetes-models",
    "IoK8sApiAutoscalingV2HorizontalPodAutoscaler",
  ],
  "keda.sh/v1alpha1/ScaledObject": [
    "@kubernetes-models/keda",
    "ComGithubKedacoreKedaV2ApisKedaV1alpha1ScaledObject",
  ],
  "keda.sh/v1alpha1/TriggerAuthentication": [
    "@kubernetes-models/keda",
    "ComGithubKedacoreKedaV2ApisKedaV1alpha1TriggerAuthentication",
  ],
};

const loaded = new Map<string, Promise<Validate>>();

function validatorFor(apiVersion: string, kind: string): Promise<Validate> {
  const key = `${apiVersion}/${kind}`;
  const entry = SCHEMAS[key];
  if (!entry) {
    return Promise.reject(new Error(`${key}: no schema known; add it to SCHEMAS in schemas.ts`));
  }
  if (!loaded.has(key)) {
    // The packages export their models, not their schemas' paths: load the compiled schema from the package folder.
    const file = path.join(import.meta.dirname, "../node_modules", entry[0], "_schemas", `${entry[1]}.js`);
    loaded.set(
      key,
      import(pathToFileURL(file).href).then((m: { validate: Validate }) => m.validate),
    );
  }
  return loaded.get(key) as Promise<Validate>;
}

/**
 * Runs `validate` on `data` and also reports every field no part of the schema looked at: the Kubernetes schemas
 * do not forbid unknown properties (the API server drops or refuses them), so a misspelt field would pass. Every
 * object is seen through a proxy that records the properties the validator reads; an object it enumerates (a map,
 * such as labels) accepts any key. A property of a checked object that was never read is unknown to the schema.
 */
function validateStrictly(validate: Validate, data: unknown): string[] {
  const records = new WeakMap<object, { read: Set<string>; enumerated: boolean }>();
  const proxies = new WeakMap<object, object>();
  const watch = (value: unknown): unknown => {
    if (!value || typeof value !== "object") {
      return value;
    }
    const known = proxies.get(value);
    if (known) {
      return known;
    }
    const record = { read: new Set<string>(), enumerated: false };
    records.set(value, record);
    const proxy = new Proxy(value, {
      get: (target, key) => {
        if (typeof key === "string") {
          record.read.add(key);
        }
        return watch(Reflect.get(target, key));
      },
      has: (target, key) => {
        if (typeof key === "string") {
          record.read.add(key);
        }
        return Reflect.has(target, key);
      },
      ownKeys: (target) => {
        record.enumerated = true;
        return Reflect.ownKeys(target);
      },
    });
    proxies.set(value, proxy);
    return proxy;
  };
  const problems: string[] = [];
  if (!validate(watch(data))) {
    for (const error of validate.errors ?? []) {
      problems.push(`${error.instancePath || "/"}: ${error.keyword} ${JSON.stringify(error.params)}`);
    }
  }
  const walk = (value: unknown, at: string): void => {
    const record = value && typeof value === "object" ? records.get(value) : undefined;
    if (!record) {
      return;
    }
    for (const [key, child] of Object.entries(value as object)) {
      if (Array.isArray(value) || record.enumerated || record.read.has(key)) {
        walk(child, `${at}/${key}`);
      } else {
        problems.push(`${at}/${key}: unknown field`);
      }
    }
  };
  walk(data, "");
  return problems;
}

/** The schema violations and unknown fields of a manifest, each as `<path>: <problem>`; empty when it is valid. */
export async function validateManifest(manifest: Manifest): Promise<string[]> {
  const validate = await validatorFor(manifest.apiVersion, manifest.kind);
  return validateStrictly(validate, structuredClone(manifest));
}
