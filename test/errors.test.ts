import { describe, expect, it } from 'vitest'
import { ArtifactError, CodedError, LabelError, LabelSet, MemoryEditError, MemoryFormatError, readMemory } from '../src/index.ts'
import { MemoryWriteError } from '../workers/memory/errors.ts'

// The coded errors share one base: callers branch on `code`, logs and RPC callers read `name`, and `instanceof`
// still tells the layers apart (workers/errors.ts maps each class to its own HTTP status).
describe('CodedError', () => {
  const made: [CodedError<string>, string, string][] = [
    [new ArtifactError('missing_file', 'config.json: not found'), 'ArtifactError', 'missing_file'],
    [new MemoryEditError('not_found', 'no row e:9'), 'MemoryEditError', 'not_found'],
    [new LabelError('labels_full', 'full'), 'LabelError', 'labels_full'],
    [new MemoryWriteError('rate_limited', 'slow down', 3), 'MemoryWriteError', 'rate_limited'],
  ]

  it.each(made)('%s carries its name, code and message', (err, name, code) => {
    expect(err).toBeInstanceOf(Error)
    expect(err).toBeInstanceOf(CodedError)
    expect(err.name).toBe(name)
    expect(err.code).toBe(code)
    expect(String(err)).toMatch(new RegExp(`^${name}: `))
  })

  it('keeps the layers apart', () => {
    expect(made[0]![0]).not.toBeInstanceOf(MemoryEditError)
    expect(made[2]![0]).not.toBeInstanceOf(ArtifactError)
    expect((made[3]![0] as MemoryWriteError).retryAfter).toBe(3)
  })

  it('is what the library throws', async () => {
    const thrown = await readMemory(new Uint8Array(8)).catch((err: unknown) => err)
    expect(thrown).toBeInstanceOf(MemoryFormatError)
    expect(thrown).toBeInstanceOf(CodedError)
    expect((thrown as MemoryFormatError).message).toMatch(/^memory\.bin: /)
    expect(() => new LabelSet(['ham', 'spam']).add('ham')).toThrow(expect.objectContaining({ name: 'LabelError', code: 'label_exists' }))
  })
})
