/**
 * A scripted WebSocket for unit tests: the test opens, fails, closes and feeds each socket by
 * hand and reads what the client sent, with a manual clock and settled microtasks in between.
 */
import { createManualClock, type ManualClock } from '@apigw-ws/local-gateway'
import {
  type Client,
  type ClientError,
  type ClientOptions,
  type ClientState,
  createClient,
  type HandlerTypes,
  type WebSocketLike,
} from '../src/index.js'

type Listener = ((event: unknown) => void) | null

/** One fake socket. `close()` records the code; the test decides when `onclose` fires. */
export class FakeSocket implements WebSocketLike {
  readyState = 0
  readonly sent: string[] = []
  closedWith: number | null = null
  onopen: Listener = null
  onclose: Listener = null
  onmessage: Listener = null
  onerror: Listener = null

  constructor(readonly url: string) {}

  send(data: string): void {
    if (this.readyState !== 1) throw new Error('send on a socket that is not open')
    this.sent.push(data)
  }

  close(code?: number): void {
    this.closedWith = code ?? 1005
    this.readyState = 3
  }

  /** The token the client put in the URL. */
  get token(): string | null {
    return new URL(this.url).searchParams.get('token')
  }

  /** Sent frames, parsed. */
  get frames(): Record<string, unknown>[] {
    return this.sent.map((text) => JSON.parse(text) as Record<string, unknown>)
  }

  open(): void {
    this.readyState = 1
    this.onopen?.({})
  }

  /** The server (or API Gateway) closes the socket. */
  drop(code: number): void {
    this.readyState = 3
    this.onclose?.({ code, reason: '' })
  }

  push(value: unknown): void {
    this.onmessage?.({ data: typeof value === 'string' ? value : JSON.stringify(value) })
  }

  /** Answers every request frame not answered yet with `reply(frame)`. */
  answer(reply: (frame: Record<string, unknown>) => unknown = () => ({ ok: true })): void {
    for (const frame of this.frames) {
      if (typeof frame.$id !== 'string' || this.answered.has(frame.$id)) continue
      this.answered.add(frame.$id)
      this.push({ $id: frame.$id, ...(reply(frame) as object) })
    }
  }

  private readonly answered = new Set<string>()
}

/** Lets pending promise chains (token fetches, re-joins) run. */
export async function settle(): Promise<void> {
  for (let i = 0; i < 10; i += 1) await new Promise<void>((resolve) => setImmediate(resolve))
}

/** A client on fake sockets and a manual clock, with its sockets, tokens, states and errors. */
export function harness<T extends HandlerTypes = HandlerTypes>(
  overrides: Partial<ClientOptions> = {},
) {
  const clock: ManualClock = createManualClock()
  const sockets: FakeSocket[] = []
  const states: ClientState[] = []
  const errors: ClientError[] = []
  const messages: unknown[] = []
  let issued = 0
  const client: Client<T> = createClient<T>({
    url: 'wss://ws.example.com/prod',
    token: async () => `token-${++issued}`,
    createSocket: (url) => {
      const socket = new FakeSocket(url)
      sockets.push(socket)
      return socket
    },
    timers: clock,
    random: () => 0.5,
    lifecycle: null,
    ...overrides,
  })
  client.on('state', (s) => states.push(s))
  client.on('error', (e) => errors.push(e))
  client.on('message', (m) => messages.push(m))
  const last = (): FakeSocket => {
    const socket = sockets.at(-1)
    if (socket === undefined) throw new Error('no socket yet')
    return socket
  }
  /** Advances the clock and lets the client react. */
  const advance = async (ms: number): Promise<void> => {
    clock.advance(ms)
    await settle()
  }
  /** Waits for the next socket, opens it and answers its re-joins. */
  const openNext = async (): Promise<FakeSocket> => {
    await settle()
    const socket = last()
    socket.open()
    await settle()
    socket.answer()
    await settle()
    return socket
  }
  return { client, clock, sockets, states, errors, messages, last, advance, openNext }
}
