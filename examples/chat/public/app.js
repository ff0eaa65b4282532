// The chat page, on @apigw-ws/client: a fresh single-use token for every connection, reconnects
// with backoff, heartbeats, make-before-break rollover before API Gateway's 2-hour cut, rooms
// re-joined after each, and refusals shown as friendly sentences instead of "Internal server error".
import { ClientError, createClient } from '/client.js'

const $ = (id) => document.getElementById(id)
const ROOMS = ['lobby', 'random', 'staff']
let client = null
let lastToken = null

function setStatus(state) {
  const text = {
    connecting: 'connecting…',
    open: 'connected',
    reconnecting: 'reconnecting…',
    closed: 'signed out',
  }
  $('status').textContent = text[state] ?? state
  $('status').dataset.state = state
}

function line(target, text, kind = '') {
  const p = document.createElement('p')
  p.textContent = text
  if (kind) p.className = kind
  target.append(p)
  target.scrollTop = target.scrollHeight
}
const notice = (text, kind = 'system') => line($('messages'), text, kind)
const pane = (room) => document.querySelector(`.pane[data-room="${room}"]`)
const roomLine = (room, text, kind) => line(pane(room).querySelector('.lines'), text, kind)

/** A refusal as a person would say it. */
function friendly(error, what) {
  if (!(error instanceof ClientError)) return `Something went wrong (${what}).`
  if (error.code === 'REFUSED') {
    if (error.status === 403) return `You can't ${what}.`
    if (error.status === 429) return `Slow down: try ${what} again in a moment.`
    if (error.status === 400) return `That didn't look right (${what}).`
    return `The server couldn't ${what} right now.`
  }
  if (error.code === 'TIMEOUT' || error.code === 'CONNECTION_LOST')
    return `No answer: ${what} may not have happened.`
  if (error.code === 'MESSAGE_TOO_LARGE') return 'That message is too long.'
  return `Couldn't ${what} (${error.code}).`
}

async function post(path, body) {
  const res = await fetch(path, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body ?? {}),
  })
  return { status: res.status, body: await res.json().catch(() => ({})) }
}

async function getToken() {
  const { status, body } = await post('/ws-token')
  if (status === 401 || status === 403)
    throw new ClientError('SIGNED_OUT', 'signed out', { status })
  if (status !== 200)
    throw new ClientError('TOKEN_FAILED', `token route answered ${status}`, { status })
  lastToken = body.token
  return body.token
}

async function refreshOnline(users) {
  const list = users ?? (await client.request('who').catch(() => ({ users: [] }))).users
  $('online').replaceChildren(
    ...list.map((u) => Object.assign(document.createElement('li'), { textContent: u })),
  )
}

async function refreshLog() {
  const { entries } = await (await fetch('/security-log')).json()
  $('log').replaceChildren(
    ...entries.map((e) => {
      const div = document.createElement('div')
      div.textContent = `${new Date(e.at).toLocaleTimeString()} ${e.kind} ${e.code}${e.route ? ` (${e.route})` : ''}`
      return div
    }),
  )
}

async function join(room) {
  try {
    await client.join(room)
    pane(room).dataset.joined = 'true'
    roomLine(room, `you joined ${room}`, 'system')
    await refreshOnline()
  } catch (error) {
    const why = room === 'staff' ? ' It is for admins only.' : ''
    roomLine(room, `${friendly(error, `join ${room}`)}${why}`, 'refused')
    await refreshLog()
  }
}

function onPush(message) {
  if (message?.type === 'chat' && pane(message.room))
    roomLine(message.room, `${message.from}: ${message.text}`)
  else if (message?.type === 'system' && pane(message.room)) {
    roomLine(message.room, message.text, 'system')
    void refreshOnline()
  } else if (message?.type === 'presence') void refreshOnline(message.users)
  else if (message?.type === 'notify')
    notice(`${message.from} notifies you: ${message.text}`, 'notify')
}

async function start(me) {
  $('login').hidden = true
  $('chat').hidden = false
  $('logout').hidden = false
  $('me').textContent = `${me.name}${me.isAdmin ? ' (admin)' : ''}`
  const config = await (await fetch('/config')).json()
  client = createClient({
    url: config.webSocketUrl,
    token: getToken,
    ...(config.rolloverMs ? { rolloverMs: config.rolloverMs } : {}),
  })
  client.on('state', (state) => {
    setStatus(state)
    if (state === 'closed') notice('You were signed out.')
  })
  client.on('message', onPush)
  client.on('error', (error) => {
    if (error.code === 'REFUSED') notice(friendly(error, 're-join a room'), 'refused')
  })
  await join('lobby')
}

for (const room of ROOMS) {
  const section = pane(room)
  section.querySelector('form').addEventListener('submit', async (event) => {
    event.preventDefault()
    const input = section.querySelector('input')
    const text = input.value
    if (section.dataset.joined !== 'true') return join(room)
    input.value = ''
    await client
      .request('chat', { room, text })
      .catch((error) => roomLine(room, friendly(error, 'send that'), 'refused'))
  })
  section.querySelector('.join')?.addEventListener('click', () => join(room))
}

$('login-form').addEventListener('submit', async (event) => {
  event.preventDefault()
  const { status, body } = await post('/login', {
    name: $('name').value,
    adminCode: $('admin-code').value,
  })
  if (status !== 200) {
    $('login-error').textContent = body.error ?? 'Sign-in failed.'
    return
  }
  await start(body)
})

$('logout').addEventListener('click', async () => {
  await post('/logout')
  client?.close()
  location.reload()
})

$('notify-form').addEventListener('submit', async (event) => {
  event.preventDefault()
  const { status, body } = await post('/notify', { to: $('notify-to').value, text: 'ping' })
  notice(
    status === 200
      ? `notified ${$('notify-to').value} (${body.delivered} delivered)`
      : (body.error ?? 'notify failed'),
  )
})

$('reuse-token').addEventListener('click', async () => {
  const { webSocketUrl } = await (await fetch('/config')).json()
  const socket = new WebSocket(`${webSocketUrl}?token=${encodeURIComponent(lastToken ?? '')}`)
  socket.addEventListener('open', () => {
    notice('reused token accepted?! (it should not be)')
    socket.close()
  })
  socket.addEventListener('error', async () => {
    notice('reused token refused by the gateway')
    await refreshLog()
  })
})

$('forged-origin').addEventListener('click', async () => {
  const { body } = await post('/demo/forged-origin')
  notice(`connection from https://evil.example got HTTP ${body.status}`)
  await refreshLog()
})

const me = await (await fetch('/me')).json()
if (me.name) await start(me)
