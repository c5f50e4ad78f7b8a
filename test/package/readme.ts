/**
 * The README's "Use it in your own project" section as the consumer test runs it: per subsection (### title),
 * the shell commands of its ```sh blocks, in order, and the files of its code blocks whose first line names a
 * path (`// src/page.js`, `<!-- public/index.html -->`). Blocks without a path are examples, not files.
 */
import { readFileSync } from 'node:fs'

export const SECTION = 'Use it in your own project'

export interface ReadmeSubsection {
  title: string
  commands: string[]
  /** Path -> content, without the line that names the path. */
  files: Record<string, string>
}

const BLOCK = /^```(\w*)\n([\s\S]*?)^```$/gm
const PATH_LINE = /^(?:\/\/\s*(\S+)|<!--\s*(\S+)\s*-->)$/

export function readmeSubsections(readme = readFileSync('README.md', 'utf8')): Map<string, ReadmeSubsection> {
  const start = readme.indexOf(`\n## ${SECTION}\n`)
  if (start < 0) throw new Error(`README.md has no "## ${SECTION}" section`)
  const rest = readme.slice(start + 1)
  const end = rest.indexOf('\n## ', 1)
  const section = end < 0 ? rest : rest.slice(0, end)
  const out = new Map<string, ReadmeSubsection>()
  for (const part of section.split(/^### /m).slice(1)) {
    const title = part.slice(0, part.indexOf('\n')).trim()
    const sub: ReadmeSubsection = { title, commands: [], files: {} }
    for (const [, lang, body] of part.matchAll(BLOCK)) {
      if (lang === 'sh') {
        sub.commands.push(...body.split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#')))
        continue
      }
      const [first, ...lines] = body.split('\n')
      const path = PATH_LINE.exec(first.trim())
      if (path) sub.files[path[1] ?? path[2]] = lines.join('\n')
    }
    out.set(title, sub)
  }
  return out
}
