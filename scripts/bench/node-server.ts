/**
 * Bench-only node:http server around one Node classifier, so it can be load-tested over loopback exactly
 * like the worker: `POST /v1/classify` with `{"text": "..."}` (`?k=` as the worker) answers JSON.
 *
 *   tsx scripts/bench/node-server.ts resmem artifacts/spam [1|default]         # our Node library (onnxruntime-node)
 *   tsx scripts/bench/node-server.ts transformers artifacts/spam [1|default]   # a transformers.js text-classification pipeline
 * The last argument: onnxruntime-node threads (node-classifiers.ts), default `1`.
 *
 * Listens on 127.0.0.1, a free port, and prints `listening <port>` once the model is loaded. Runs until killed.
 */
import { createServer, type IncomingMessage } from 'node:http'
import type { AddressInfo } from 'node:net'
import { loadNodeClassifier, loadPipeline, type NodeImpl, type OrtThreads } from './node-classifiers.ts'

const [impl, bundle, threads = '1'] = process.argv.slice(2) as [NodeImpl, string, OrtThreads?]
if (!['resmem', 'transformers'].includes(impl) || !bundle || !['1', 'default'].includes(threads)) {
  console.error('usage: node-server.ts resmem|transformers BUNDLE_DIR [1|default]')
  process.exit(2)
}

async function body(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = []
  for await (const chunk of req) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks).toString('utf8')
}

const classify = impl === 'resmem' ? await loadNodeClassifier(bundle, threads) : await loadPipeline(bundle, threads)

const server = createServer(async (req, res) => {
  try {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1')
    if (req.method !== 'POST' || url.pathname !== '/v1/classify') {
      res.writeHead(404).end()
      return
    }
    const { text } = JSON.parse(await body(req)) as { text: string }
    const k = url.searchParams.get('k')
    const result = await classify(text, k === null ? undefined : Number(k))
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(result))
  } catch (err) {
    res.writeHead(500, { 'content-type': 'application/json' }).end(JSON.stringify({ error: String(err) }))
  }
})
server.keepAliveTimeout = 60_000
server.listen(0, '127.0.0.1', () => console.log(`listening ${(server.address() as AddressInfo).port}`))
