// The chat page. It signs in, fetches a single-use token from the CSRF-protected token route,
// opens the socket through the (local) API Gateway, and reconnects with a fresh token and
// exponential backoff when the socket drops.
const $ = (id) => document.getElementById(id)
const state = {
  socket: null,
  room: null,
  rooms: new Set(),
  lastToken: null,
  retries: 0,
  signedIn: false,
}

function setStatus(text, s) {
  $('status').textContent = text
  $('status').dataset.state = s
}

function show(line, kind = '') {
  const p = document.createElement('p')
  p.textContent = line
  if (kind) p.className = kind
  $('messages').append(p)
  $('messages').scrollTop = $('messages').scrollHeight
}

async function api(path, body) {
  const res = await fetch(path, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body ?? {}),
  })
  return { status: res.status, body: await res.json().catch(() => ({})) }
}

async function freshToken() {
  const { status, body } = await api('/ws-token')
  if (status !== 200) throw new Error(`token refused (${status})`)
  state.lastToken = body.token
  return body.token
}

function send(message) {
  if (state.socket?.readyState === WebSocket.OPEN) state.socket.send(JSON.stringify(message))
}

async function connect() {
  if (!state.signedIn) return
  setStatus('connecting…', 'idle')
  let token
  try {
    token = await freshToken()
  } catch (error) {
    return scheduleReconnect(String(error.message))
  }
  const { webSocketUrl } = await (await fetch('/config')).json()
  const socket = new WebSocket(`${webSocketUrl}?token=${encodeURIComponent(token)}`)
  state.socket = socket
  socket.addEventListener('open', () => {
    state.retries = 0
    setStatus('connected', 'open')
    for (const room of state.rooms) send({ action: 'join', room })
    if (state.rooms.size === 0) send({ action: 'join', room: 'lobby' })
    send({ action: 'who' })
  })
  socket.addEventListener('message', (event) => receive(JSON.parse(event.data)))
  socket.addEventListener('close', () => {
    if (state.socket === socket) scheduleReconnect('closed')
  })
}

// A failure anywhere in `connect` (the token route, `/config`, the socket constructor) must lead
// to another attempt, not to an unhandled rejection that leaves the page disconnected for good.
function startConnecting() {
  connect().catch((error) => scheduleReconnect(String(error?.message ?? error)))
}

function scheduleReconnect(reason) {
  state.socket = null
  if (!state.signedIn) return
  const delay = Math.min(30_000, 1000 * 2 ** state.retries) * (0.5 + Math.random() / 2)
  state.retries++
  setStatus(`disconnected (${reason}); retrying in ${Math.round(delay / 1000)} s`, 'closed')
  setTimeout(startConnecting, delay)
}

function renderRooms() {
  $('rooms').replaceChildren(
    ...[...state.rooms].map((room) => {
      const li = document.createElement('li')
      const b = document.createElement('button')
      b.textContent = room === state.room ? `${room} ●` : room
      b.addEventListener('click', () => {
        state.room = room
        $('current-room').textContent = room
        renderRooms()
      })
      li.append(b)
      return li
    }),
  )
}

function receive(message) {
  switch (message.type) {
    case 'joined':
      state.rooms.add(message.room)
      state.room = message.room
      $('current-room').textContent = message.room
      renderRooms()
      show(`you joined ${message.room}`, 'system')
      break
    case 'left':
      state.rooms.delete(message.room)
      renderRooms()
      break
    case 'chat':
      show(`[${message.room}] ${message.from}: ${message.text}`)
      break
    case 'system':
      show(`[${message.room}] ${message.text}`, 'system')
      // Someone joined a room we are in: the online list is stale now.
      send({ action: 'who' })
      break
    case 'notify':
      show(`🔔 ${message.from} notified you: ${message.text}`, 'notify')
      break
    case 'who':
      $('online').replaceChildren(
        ...message.users.map((u) =>
          Object.assign(document.createElement('li'), { textContent: u }),
        ),
      )
      break
    default:
      if (message.message) show(`gateway: ${message.message}`, 'system')
  }
}

async function refreshLog() {
  if (!state.signedIn) return
  const res = await fetch('/security-log')
  const { entries } = await res.json()
  $('log').replaceChildren(
    ...entries.map((e) =>
      Object.assign(document.createElement('div'), {
        textContent: `${new Date(e.at).toLocaleTimeString()} ${e.kind} ${e.code}${e.route ? ` (${e.route})` : ''}`,
      }),
    ),
  )
}

function signedIn(name) {
  state.signedIn = true
  $('me').textContent = `signed in as ${name}`
  $('login').hidden = true
  $('chat').hidden = false
  $('logout').hidden = false
  startConnecting()
}

$('login-form').addEventListener('submit', async (event) => {
  event.preventDefault()
  const { status, body } = await api('/login', { name: $('name').value })
  if (status !== 200) {
    $('login-error').textContent = body.error ?? 'sign-in failed'
    return
  }
  signedIn(body.name)
})

$('logout').addEventListener('click', async () => {
  state.signedIn = false
  await api('/logout')
  location.reload()
})

$('join-form').addEventListener('submit', (event) => {
  event.preventDefault()
  send({ action: 'join', room: $('room').value.trim() })
  $('room').value = ''
})

$('chat-form').addEventListener('submit', (event) => {
  event.preventDefault()
  if (!state.room) return show('join a room first', 'system')
  send({ action: 'chat', room: state.room, text: $('text').value })
  $('text').value = ''
})

$('notify-form').addEventListener('submit', async (event) => {
  event.preventDefault()
  const { body } = await api('/notify', { to: $('notify-to').value.trim(), text: 'ping' })
  show(`notification delivered to ${body.delivered ?? 0} tab(s)`, 'system')
})

$('refresh-online').addEventListener('click', () => send({ action: 'who' }))

$('reuse-token').addEventListener('click', async () => {
  if (!state.lastToken) return
  const { webSocketUrl } = await (await fetch('/config')).json()
  const probe = new WebSocket(`${webSocketUrl}?token=${encodeURIComponent(state.lastToken)}`)
  probe.addEventListener('open', () => {
    show('reused token accepted?!', 'system')
    probe.close()
  })
  probe.addEventListener('error', () => show('reused token refused by the gateway', 'system'))
  setTimeout(refreshLog, 300)
})

$('forged-origin').addEventListener('click', async () => {
  const { body } = await api('/demo/forged-origin')
  show(`connection from https://evil.example got HTTP ${body.status}`, 'system')
  setTimeout(refreshLog, 300)
})

setInterval(refreshLog, 2000)
const me = await (await fetch('/me')).json()
if (me.name) signedIn(me.name)
