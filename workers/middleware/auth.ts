/**
 * Optional bearer-token auth (hono/bearer-auth, which compares tokens in constant time). Off while the
 * API_TOKEN secret is unset. Every failure, whether the header is missing, malformed or holds a wrong token,
 * gets the same 401: a client learns only that a valid bearer token is required.
 */
import type { Context, MiddlewareHandler } from 'hono'
import { bearerAuth } from 'hono/bearer-auth'
import { ApiError } from '../errors.ts'

export interface BearerTokenOptions {
  /** The accepted tokens for this request (they may come from a secret); undefined turns auth off. */
  tokens: (c: Context) => readonly string[] | undefined
  /** The realm of the WWW-Authenticate challenge. */
  realm?: string
}

export const UNAUTHORIZED_MESSAGE = 'a valid bearer token is required'

/**
 * @example
 * app.use('/v1/*', bearerToken({ tokens: (c) => c.var.settings.apiTokens }))
 */
export function bearerToken(options: BearerTokenOptions): MiddlewareHandler {
  const realm = options.realm ?? 'resmem'
  const deny = (): never => {
    throw new ApiError(401, 'unauthorized', UNAUTHORIZED_MESSAGE, undefined, { 'www-authenticate': `Bearer realm="${realm}"` })
  }
  // hono's middleware per token list, built once per list (the secret changes only with a new deployment).
  let cached: { key: string; check: MiddlewareHandler } | undefined

  return async function bearerToken(c, next) {
    const tokens = options.tokens(c)
    if (!tokens) return next()
    const key = tokens.join('\n')
    if (cached?.key !== key) {
      const check = bearerAuth({
        token: [...tokens],
        realm,
        noAuthenticationHeader: { message: deny },
        invalidAuthenticationHeader: { message: deny },
        invalidToken: { message: deny },
      })
      cached = { key, check }
    }
    return cached.check(c, next)
  }
}
