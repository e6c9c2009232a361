/*
 * check_k8s.mjs - offline validation of Kubernetes manifests (deploy/k8s/)
 * against the Kubernetes API's own schemas, and the pod environment they
 * give dtxd.
 *
 * Usage:
 *   node check_k8s.mjs FILE...              validate every document
 *   node check_k8s.mjs --sets FILE... [-- FILE...]...
 *                                           validate each set of files on
 *                                           its own, in one run (one
 *                                           TypeScript program): a line
 *                                           "set N: ok" or "set N: FAIL"
 *                                           after each set's problems
 *   node check_k8s.mjs --configmap FILE NAME KEY
 *                                           print a ConfigMap's data key
 *   node check_k8s.mjs --pod-env KIND NAME ORDINAL FILE...
 *                                           print the env of the workload's
 *                                           first container, one NAME=VALUE
 *                                           a line, as pod ORDINAL gets it
 *
 * Each document is checked three ways, all offline:
 *   1. the JSON schema of its apiVersion/kind as kubernetes-models bundles
 *      it (ajv validators generated from the Kubernetes OpenAPI spec):
 *      types, enums, required fields, formats;
 *   2. TypeScript's checker against the same package's interfaces (also
 *      generated from the OpenAPI spec): an object literal with a field
 *      its type does not have is an error, at every depth - the strict
 *      check kubectl's validation does and the JSON schemas, which allow
 *      additional properties, do not;
 *   3. references the API server or the kubelet would refuse or never
 *      resolve: a workload selector that does not select its own template,
 *      a probe or Service port naming no container port, a ConfigMap or
 *      Secret or a StatefulSet's serviceName that none of the files define.
 * Exit 0 when all pass, 1 naming each problem, 2 on bad usage.
 */
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import YAML from "yaml";

const here = path.dirname(fileURLToPath(import.meta.url));
let problems = [];
let set = 0; /* the set load() gives its documents */

function problem(where, msg, inSet = set) {
  problems.push({ set: inSet, text: `${where}: ${msg}` });
}

/* load reads every document of every file: {file, index, obj, where,
 * set}. */
function load(files) {
  const docs = [];
  for (const file of files) {
    const text = fs.readFileSync(file, "utf8");
    const all = YAML.parseAllDocuments(text, { uniqueKeys: true });
    all.forEach((d, index) => {
      for (const e of [...d.errors, ...d.warnings])
        problem(`${file}: document ${index + 1}`,
          `YAML: ${e.message.split("\n")[0]}`);
      const obj = d.toJS();
      if (obj === null || obj === undefined) return;
      const name = obj?.metadata?.name ?? "(no name)";
      docs.push({ file, index, obj, set,
        where: `${file}: ${obj.kind}/${name}` });
    });
  }
  return docs;
}

/* modelPath: the kubernetes-models module of apiVersion/kind. */
function modelPath(obj) {
  const v = obj.apiVersion;
  if (typeof v !== "string" || typeof obj.kind !== "string") return null;
  if (!/^([a-z0-9.-]+\/)?v[0-9]+((alpha|beta)[0-9]+)?$/.test(v)) return null;
  if (!/^[A-Z][A-Za-z0-9]*$/.test(obj.kind)) return null;
  return `kubernetes-models/${v}/${obj.kind}`;
}

function modelFile(mod) {
  return path.join(here, "node_modules", `${mod}.js`);
}

/* checkSchema validates doc against its JSON schema (1.). */
async function checkSchema(doc) {
  const mod = modelPath(doc.obj);
  if (mod === null || !fs.existsSync(modelFile(mod))) {
    problem(doc.where, `no Kubernetes schema for apiVersion ` +
      `${doc.obj.apiVersion} kind ${doc.obj.kind}`);
    return false;
  }
  const m = await import(mod);
  const Model = m[doc.obj.kind];
  try {
    new Model(doc.obj).validate();
  } catch (e) {
    for (const line of String(e.message).split("\n"))
      problem(doc.where, `schema: ${line}`);
  }
  return true;
}

/* checkTypes runs TypeScript over one generated file holding every
 * document as a typed constant (2.). */
async function checkTypes(docs) {
  const ts = (await import("typescript")).default;
  const file = path.join(here, "manifests.generated.ts");
  const ranges = [];
  let text = "";
  docs.forEach((doc, i) => {
    const mod = modelPath(doc.obj);
    text += `import type { I${doc.obj.kind} as T${i} } from "${mod}";\n`;
  });
  docs.forEach((doc, i) => {
    const start = text.length;
    text += `export const d${i}: T${i} = ${JSON.stringify(doc.obj, null, 2)};\n`;
    ranges.push({ start, end: text.length, doc });
  });
  const options = {
    strict: true, noEmit: true, skipLibCheck: true, types: [],
    module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
  };
  const host = ts.createCompilerHost(options);
  const getSourceFile = host.getSourceFile;
  host.getSourceFile = (name, lang) => name === file
    ? ts.createSourceFile(name, text, lang, true)
    : getSourceFile(name, lang);
  const fileExists = host.fileExists;
  host.fileExists = (name) => name === file || fileExists(name);
  const program = ts.createProgram([file], options, host);
  for (const d of ts.getPreEmitDiagnostics(program)) {
    const msg = ts.flattenDiagnosticMessageText(d.messageText, " ");
    const r = d.file && d.file.fileName === file
      ? ranges.find((x) => d.start >= x.start && d.start < x.end) : null;
    if (r === null || r === undefined) {
      problem("TypeScript", msg, -1);
      continue;
    }
    problem(r.doc.where, `type: ${jsonPath(text, d.start, r.start)}${msg}`,
      r.doc.set);
  }
}

/* jsonPath names the key on the line of offset pos of the literal starting
 * at from, after its enclosing keys (the generated text is indented JSON:
 * each enclosing key is the nearest line above with less indent). */
function jsonPath(text, pos, from) {
  const eol = text.indexOf("\n", pos);
  const lines = text.slice(from, eol < 0 ? text.length : eol).split("\n");
  const keys = [];
  let indent = Infinity;
  for (let i = lines.length - 1; i >= 0; i--) {
    const m = /^( *)"([^"]+)":/.exec(lines[i]);
    if (m && m[1].length < indent) {
      keys.unshift(m[2]);
      indent = m[1].length;
    }
  }
  return keys.length ? `${keys.join(".")}: ` : "";
}

function podSpec(obj) {
  return obj?.spec?.template?.spec ?? null;
}

function labelsMatch(sel, labels) {
  return Object.entries(sel ?? {}).every(([k, v]) => labels?.[k] === v);
}

function portNames(spec) {
  const names = new Set();
  for (const c of spec?.containers ?? [])
    for (const p of c.ports ?? []) if (p.name) names.add(p.name);
  return names;
}

/* checkRefs: what the API server or the kubelet would refuse (3.). */
function checkRefs(docs) {
  const named = (kind) => new Set(docs.filter((d) => d.obj.kind === kind)
    .map((d) => d.obj.metadata?.name));
  const configMaps = named("ConfigMap"), secrets = named("Secret");
  const workloads = docs.filter((d) => podSpec(d.obj) !== null);
  for (const d of workloads) {
    const spec = podSpec(d.obj);
    const labels = d.obj.spec.template.metadata?.labels;
    if (!labelsMatch(d.obj.spec.selector?.matchLabels, labels))
      problem(d.where, "spec.selector does not match the template's labels");
    const ports = portNames(spec);
    for (const c of spec.containers ?? []) {
      for (const p of ["startupProbe", "livenessProbe", "readinessProbe"]) {
        const port = c[p]?.httpGet?.port ?? c[p]?.tcpSocket?.port;
        if (typeof port === "string" && !ports.has(port))
          problem(d.where, `${c.name}.${p}: no container port '${port}'`);
      }
      for (const e of c.env ?? []) {
        const cm = e.valueFrom?.configMapKeyRef?.name;
        const s = e.valueFrom?.secretKeyRef?.name;
        if (cm && !configMaps.has(cm))
          problem(d.where, `env ${e.name}: no ConfigMap ${cm}`);
        if (s && !secrets.has(s))
          problem(d.where, `env ${e.name}: no Secret ${s}`);
      }
    }
    for (const v of spec.volumes ?? [])
      if (v.configMap && !configMaps.has(v.configMap.name))
        problem(d.where, `volume ${v.name}: no ConfigMap ${v.configMap.name}`);
    if (d.obj.kind === "StatefulSet") {
      const svc = docs.find((x) => x.obj.kind === "Service" &&
        x.obj.metadata?.name === d.obj.spec.serviceName);
      if (!svc || svc.obj.spec?.clusterIP !== "None")
        problem(d.where, `serviceName ${d.obj.spec.serviceName}: no ` +
          "headless Service of that name");
    }
  }
  for (const d of docs) {
    let sel = null;
    if (d.obj.kind === "Service") sel = d.obj.spec?.selector;
    if (d.obj.kind === "PodDisruptionBudget")
      sel = d.obj.spec?.selector?.matchLabels;
    if (sel === null) continue;
    const hits = workloads.filter((w) =>
      labelsMatch(sel, w.obj.spec.template.metadata?.labels));
    if (hits.length === 0) {
      problem(d.where, "its selector matches no workload's pods");
      continue;
    }
    if (d.obj.kind !== "Service") continue;
    for (const p of d.obj.spec.ports ?? [])
      if (typeof p.targetPort === "string" &&
          !hits.every((w) => portNames(podSpec(w.obj)).has(p.targetPort)))
        problem(d.where, `port ${p.name}: targetPort '${p.targetPort}' ` +
          "is no container port of the pods it selects");
  }
}

/* validate checks each set of files (an array of arrays) on its own and
 * prints its problems, or its documents as ok; returns the sets that
 * failed. A problem outside every set fails them all. */
async function validate(sets) {
  const docs = [], known = [];
  sets.forEach((files, i) => {
    set = i;
    docs.push(...load(files));
  });
  for (const doc of docs) {
    set = doc.set;
    if (await checkSchema(doc)) known.push(doc);
  }
  if (known.length) await checkTypes(known);
  sets.forEach((files, i) => {
    set = i;
    checkRefs(known.filter((d) => d.set === i));
  });
  let failed = 0;
  sets.forEach((files, i) => {
    const mine = problems.filter((p) => p.set === i || p.set === -1);
    const n = docs.filter((d) => d.set === i).length;
    for (const p of mine) console.log(p.text);
    if (mine.length) {
      console.log(`${sets.length > 1 ? `set ${i + 1}: ` : ""}FAIL: ` +
        `${mine.length} problem(s) in ${n} document(s)`);
      failed++;
      return;
    }
    for (const d of docs.filter((x) => x.set === i))
      console.log(`ok: ${d.where}`);
    if (sets.length > 1) console.log(`set ${i + 1}: ok`);
  });
  return failed;
}

function find(docs, kind, name) {
  const d = docs.find((x) => x.obj.kind === kind &&
    x.obj.metadata?.name === name);
  if (!d) throw new Error(`no ${kind}/${name}`);
  return d.obj;
}

/* fieldValue resolves a downward-API field of pod ORDINAL of obj; pod
 * IPs are loopback here (only --check-config reads them). */
function fieldValue(obj, ordinal, fieldPath) {
  const name = obj.kind === "StatefulSet"
    ? `${obj.metadata.name}-${ordinal}` : `${obj.metadata.name}-5d8c7f9b4-x${ordinal}`;
  const fields = {
    "metadata.name": name,
    "metadata.namespace": "dtx",
    "metadata.labels['apps.kubernetes.io/pod-index']": String(ordinal),
    "status.podIP": `127.0.0.${Number(ordinal) + 1}`,
  };
  if (!(fieldPath in fields)) throw new Error(`field ${fieldPath}`);
  return fields[fieldPath];
}

/* podEnv prints the env of kind/name's first container as pod ORDINAL
 * gets it: values, the downward API, Secrets, $(VAR) expansion. */
function podEnv(docs, kind, name, ordinal) {
  const obj = find(docs, kind, name);
  const env = {};
  for (const e of podSpec(obj).containers[0].env ?? []) {
    let v = e.value;
    if (e.valueFrom?.fieldRef)
      v = fieldValue(obj, ordinal, e.valueFrom.fieldRef.fieldPath);
    else if (e.valueFrom?.secretKeyRef) {
      const ref = e.valueFrom.secretKeyRef;
      const s = find(docs, "Secret", ref.name);
      v = s.stringData?.[ref.key] ??
        Buffer.from(s.data[ref.key], "base64").toString();
    } else if (e.valueFrom?.configMapKeyRef) {
      const ref = e.valueFrom.configMapKeyRef;
      v = find(docs, "ConfigMap", ref.name).data[ref.key];
    }
    env[e.name] = String(v ?? "").replace(/\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g,
      (all, n) => (n in env ? env[n] : all));
  }
  for (const [k, v] of Object.entries(env)) console.log(`${k}=${v}`);
}

function usage() {
  console.error("usage: check_k8s.mjs FILE... | --sets FILE... [-- " +
    "FILE...]... | --configmap FILE NAME KEY | --pod-env KIND NAME " +
    "ORDINAL FILE...");
  return 2;
}

async function main(argv) {
  if (argv[0] === "--configmap" && argv.length === 4) {
    const v = find(load([argv[1]]), "ConfigMap", argv[2]).data?.[argv[3]];
    if (v === undefined) throw new Error(`no key ${argv[3]}`);
    process.stdout.write(v);
    return 0;
  }
  if (argv[0] === "--pod-env" && argv.length >= 5) {
    podEnv(load(argv.slice(4)), argv[1], argv[2], argv[3]);
    return 0;
  }
  if (argv[0] === "--sets" && argv.length > 1) {
    const sets = [[]];
    for (const a of argv.slice(1))
      a === "--" ? sets.push([]) : sets[sets.length - 1].push(a);
    if (sets.some((x) => x.length === 0)) return usage();
    await validate(sets);
    return 0;
  }
  if (argv.length === 0 || argv[0].startsWith("--")) return usage();
  return (await validate([argv])) ? 1 : 0;
}

process.exitCode = await main(process.argv.slice(2));
