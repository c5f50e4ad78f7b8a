// A second Worker that binds the ResMem worker's RPC entrypoint (vitest.workers.config.ts: services RESMEM ->
// entrypoint ResMem), as another team's Worker would. POST {method, args} calls env.RESMEM[method](...args) and
// answers what the caller got: {value} or {error: {name, message, ...its own fields}} as the caller catches it.
export default {
  async fetch(request, env) {
    const { method, args } = await request.json()
    try {
      return Response.json({ value: await env.RESMEM[method](...args) })
    } catch (err) {
      return Response.json({ error: { ...err, name: err.name, message: err.message, isError: err instanceof Error } })
    }
  },
}
