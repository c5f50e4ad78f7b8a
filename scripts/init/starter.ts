/**
 * The files of a new Worker project that serves a ResMem build with the installed resmem-edge
 * (`resmem init DIR`): the worker is `createApp()` and the RPC entrypoint `ResMem` from resmem-edge/workers, the bundle is a Workers Static
 * Asset folder built by `resmem build --out bundles/model`. Versions are the ones this package was tested with.
 */
import type { PackageJson } from '../cli/package.ts'

/** The compatibility date the repository's own wrangler.toml uses (test/scripts/init checks they agree). */
export const COMPATIBILITY_DATE = '2026-04-01'
/** Where the bundle goes and what MODEL names. */
export const BUNDLES_DIR = 'bundles'
export const BUNDLE_NAME = 'model'

export interface StarterOptions {
  /** The Worker's name (wrangler.toml `name`, package.json `name`). */
  name: string
  /** resmem-edge's own package.json: its version and the versions of wrangler and onnxruntime-node. */
  own: PackageJson
}

/** A Worker name: lowercase letters, digits and dashes, as Cloudflare accepts them. */
export function workerName(from: string): string {
  const name = from
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 63)
  return name || 'resmem-worker'
}

/** The commands the starter's README gives, in order; the package's consumer test runs them. */
export const STARTER_COMMANDS = [
  'ONNXRUNTIME_NODE_INSTALL=skip npm install',
  `npx resmem build --model model --train data/train.jsonl --val data/val.jsonl --out ${BUNDLES_DIR}/${BUNDLE_NAME}`,
  'npx wrangler dev',
  'npx wrangler deploy',
]

function packageJson({ name, own }: StarterOptions): string {
  const pkg = {
    name,
    private: true,
    type: 'module',
    scripts: {
      build: STARTER_COMMANDS[1].replace(/^npx /, ''),
      dev: 'wrangler dev',
      deploy: 'wrangler deploy',
    },
    dependencies: { [own.name]: `^${own.version}` },
    devDependencies: {
      // `resmem build` runs the model in Node; the worker itself uses onnxruntime-web. Pinned to the version this
      // package was built and tested with, so a build writes the same bytes as ours (the manifest records it).
      'onnxruntime-node': own.devDependencies?.['onnxruntime-node'] ?? own.peerDependencies?.['onnxruntime-node'] ?? '^1.30.0',
      wrangler: own.devDependencies?.wrangler ?? '^4',
    },
  }
  return JSON.stringify(pkg, null, 2) + '\n'
}

function wranglerToml({ name }: StarterOptions): string {
  return `# A ResMem Edge worker, written by \`resmem init\`. \`npx wrangler dev\` serves it on 127.0.0.1:8787,
# \`npx wrangler deploy\` deploys it.
name = "${name}"
main = "src/index.ts"
compatibility_date = "${COMPATIBILITY_DATE}"

# The model and memory (\`npx resmem build ... --out ${BUNDLES_DIR}/${BUNDLE_NAME}\`) as Workers Static Assets: read by
# the worker through the ASSETS binding on its first request, outside the script size limit, each file up to
# 25 MiB. run_worker_first: every request reaches the worker (it serves the bundle's files itself).
[assets]
directory = "${BUNDLES_DIR}"
binding = "ASSETS"
run_worker_first = true

# Learning and forgetting at the edge (POST/DELETE /v1/memory, which need API_TOKEN): each served memory's
# edit log lives in a Durable Object with SQLite storage.
[[durable_objects.bindings]]
name = "EDIT_LOG"
class_name = "EditLog"

[[migrations]]
tag = "v1"
new_sqlite_classes = ["EditLog"]

[vars]
# The bundle folder under ${BUNDLES_DIR}/ to serve.
MODEL = "${BUNDLE_NAME}"
# MAX_BATCH = "32"
# CORS_ORIGINS = "https://app.example.com"
# Bearer auth on /v1/* is a secret: \`npx wrangler secret put API_TOKEN\`.
`
}

const INDEX_TS = `// The ResMem API over the bundle in ${BUNDLES_DIR}/$MODEL: POST /v1/classify, /v1/memory (learn, forget),
// GET /v1/model, GET /healthz, GET /openapi.json, and the Hugging Face, Workers AI and OpenAI moderation shapes
// under /v1/hf, /v1/workers-ai, /v1/openai. To serve it inside a Hono app of your own instead:
//   app.route('/ml', resmemRoutes())   (import { resmemRoutes } from 'resmem-edge/workers')
import { createApp, lazyModel, loadFromBundleSource, resmemEntrypoint } from 'resmem-edge/workers'

// One model per isolate, for HTTP and RPC alike.
const model = lazyModel(loadFromBundleSource)

export default createApp({ sharedModel: model })
// RPC for your other Workers, no HTTP in between. In their wrangler.toml:
//   services = [{ binding = "RESMEM", service = "<this worker's name>", entrypoint = "ResMem" }]
// then: const { label, score } = await env.RESMEM.classify({ text: '...' })
export const ResMem = resmemEntrypoint(model)
// The edit log's Durable Object class (wrangler.toml binds it as EDIT_LOG).
export { EditLog } from 'resmem-edge/workers'
`

function readme({ name }: StarterOptions): string {
  return `# ${name}

A Cloudflare Worker that classifies text with [ResMem Edge](https://www.npmjs.com/package/resmem-edge): a small
transformer plus an int8 memory of its training residuals.

Put a text classifier in the Hugging Face layout in \`model/\` (\`config.json\` with \`id2label\`, \`tokenizer.json\`,
\`tokenizer_config.json\`, \`onnx/model.onnx\`; \`npx resmem train\` makes one) and labelled JSONL
(\`{"text": "...", "label": "..."}\` per line) in \`data/train.jsonl\` and \`data/val.jsonl\`
(\`npx resmem prepare --input your.csv --out data\` splits a file of your own). Then:

\`\`\`sh
${STARTER_COMMANDS.join('\n')}
\`\`\`

1. install (the env var skips onnxruntime-node's download of CUDA files; its CPU runtime ships in the package);
2. build the memory from your data into \`${BUNDLES_DIR}/${BUNDLE_NAME}\` (k, sigma and T are tuned on \`data/val.jsonl\`) and the
   served max length is the longest whose CPU, measured on this machine, fits the Workers Free plan's 10 ms
   (\`--cpu-budget-ms off\` serves the trained length, e.g. on Workers Paid; \`--cpu-budget-ms N\` fits N ms);
3. serve it locally on http://127.0.0.1:8787;
4. deploy it to your Cloudflare account.

\`\`\`sh
curl -s 127.0.0.1:8787/v1/classify -H 'content-type: application/json' -d '{"text": "some text"}'
\`\`\`

\`src/index.ts\` is the worker; \`wrangler.toml\` names the bundle (\`MODEL\`) and the assets folder.
`
}

const GITIGNORE = `node_modules/
.wrangler/
.dev.vars
`

/** Path -> content of every file of the starter. */
export function starterFiles(options: StarterOptions): Record<string, string> {
  return {
    'package.json': packageJson(options),
    'wrangler.toml': wranglerToml(options),
    'src/index.ts': INDEX_TS,
    'README.md': readme(options),
    '.gitignore': GITIGNORE,
  }
}
