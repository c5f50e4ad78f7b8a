import { describe, expect, it } from 'vitest'
import { worker } from './helpers.ts'

interface OpenApiDoc {
  openapi: string
  paths: Record<string, Record<string, { parameters?: { name: string; in: string }[]; requestBody?: { content: Record<string, { schema: { $ref?: string } }> }; responses: Record<string, unknown>; security?: unknown }>>
  components: { schemas: Record<string, { properties?: Record<string, unknown>; required?: string[] }>; securitySchemes?: Record<string, unknown> }
}

describe('GET /openapi.json', () => {
  it('is generated from the route schemas', async () => {
    const res = await worker('/openapi.json')
    expect(res.status).toBe(200)
    const doc = (await res.json()) as OpenApiDoc
    expect(doc.openapi).toBe('3.0.0')
    expect(Object.keys(doc.paths).sort()).toEqual(['/healthz', '/v1/classify', '/v1/hf', '/v1/labels', '/v1/labels/{label}', '/v1/memory', '/v1/memory/export', '/v1/memory/{id}', '/v1/model', '/v1/openai/moderations', '/v1/workers-ai/accounts/{account_id}/ai/run/{model}'])
    const classify = doc.paths['/v1/classify'].post
    expect(classify.requestBody?.content['application/json'].schema.$ref).toBe('#/components/schemas/ClassifyRequest')
    expect(classify.parameters).toContainEqual(expect.objectContaining({ name: 'explain', in: 'query' }))
    expect(Object.keys(classify.responses).sort()).toEqual(['200', '400', '401', '413', '415', '500', '503'])
    expect(classify.security).toEqual([{ bearer: [] }, {}])
    expect(Object.keys(doc.paths['/v1/model'].get.responses)).toEqual(expect.arrayContaining(['200', '401']))
    expect(doc.components.securitySchemes).toEqual({ bearer: expect.objectContaining({ type: 'http', scheme: 'bearer' }) })
    expect(Object.keys(doc.paths['/healthz'].get.responses).sort()).toEqual(['200', '500', '503'])
    // The memory API: always the bearer token (403 while API_TOKEN is unset).
    const memory = doc.paths['/v1/memory']
    expect(memory.post.requestBody?.content['application/json'].schema.$ref).toBe('#/components/schemas/LearnRequest')
    expect(Object.keys(memory.post.responses).sort()).toEqual(['201', '400', '401', '403', '409', '413', '415', '500', '501', '503'])
    expect(memory.post.security).toEqual([{ bearer: [] }])
    expect(memory.get.parameters?.map((p) => p.name).sort()).toEqual(['after', 'limit'])
    expect(Object.keys(doc.paths['/v1/memory/{id}'].delete.responses)).toEqual(expect.arrayContaining(['200', '400', '403', '404']))
    expect(doc.paths['/v1/memory/{id}'].delete.parameters).toContainEqual(expect.objectContaining({ name: 'id', in: 'path' }))
    expect(doc.paths['/v1/memory/export'].get.security).toEqual([{ bearer: [] }])
    // Labels that live in the memory: add (bearer), list, remove; errors in the one JSON error shape.
    expect(Object.keys(doc.paths['/v1/labels'].post.responses)).toEqual(expect.arrayContaining(['201', '400', '401', '403', '409']))
    expect(doc.paths['/v1/labels'].post.security).toEqual([{ bearer: [] }])
    expect(Object.keys(doc.paths['/v1/labels/{label}'].delete.responses)).toEqual(expect.arrayContaining(['200', '404', '409']))
    expect(Object.keys(doc.paths['/v1/labels'].get.responses)).toEqual(expect.arrayContaining(['200']))
    for (const name of ['Classification', 'ClassifyRequest', 'ClassifyResults', 'LabelScore', 'Neighbor', 'Manifest', 'Health', 'Error', 'LearnRequest', 'LearnResponse', 'ForgetResponse', 'MemoryPage', 'MemoryEntry']) {
      expect(doc.components.schemas, name).toHaveProperty(name)
    }
    expect(Object.keys(doc.components.schemas.ClassifyRequest.properties ?? {}).sort()).toEqual(['text', 'texts'])
    expect(doc.components.schemas.Classification.required).toEqual(expect.arrayContaining(['label', 'score', 'scores', 'base', 'truncated']))
  })
})
