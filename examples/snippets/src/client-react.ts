// A React hook: one client per component tree, closed when the component unmounts.
import { type Client, type ClientState, createClient } from '@apigw-ws/client'
import { useEffect, useState } from 'react'
import type { AppHandlers } from './client-server.js'

export function useChat(url: string, room: string) {
  const [client, setClient] = useState<Client<AppHandlers> | null>(null)
  const [state, setState] = useState<ClientState>('connecting')
  const [messages, setMessages] = useState<unknown[]>([])

  useEffect(() => {
    const next = createClient<AppHandlers>({ url, token: { url: '/ws-token' } })
    const stops = [
      next.on('state', setState),
      next.on('message', (m) => setMessages((list) => [...list.slice(-99), m])),
    ]
    next.join(room).catch(() => setState('closed'))
    setClient(next)
    return () => {
      for (const stop of stops) stop()
      next.close()
    }
  }, [url, room])

  const say = (text: string) => client?.request('chat', { room, text })
  return { state, messages, say }
}
