/**
 * Checks of connection bookkeeping: the SPI's shape, `create`, `get`, `touch`, `disconnect`, and
 * `list` with its filters and keyset pagination.
 */
import { expect } from 'vitest'
import { STORE_METHODS } from '../../define-store.js'
import type { ConnectionFilter, ConnectionRecord, Page } from '../../store.js'
import {
  binarySorted,
  channelsOf,
  connectionFields,
  create,
  createAll,
  freshRecord,
  group,
  idsOf,
  inBatches,
  listAll,
  newConnection,
  range,
  scrambledIds,
} from './helpers.js'

export const shapeChecks = group('shape', {
  'exposes every method of the store SPI': async ({ store }) => {
    const methods = STORE_METHODS
    for (const [groupName, names] of Object.entries(methods)) {
      const target = store[groupName as keyof typeof methods] as unknown as Record<string, unknown>
      for (const method of names) {
        expect(typeof target[method], `${groupName}.${method}`).toBe('function')
      }
    }
    expect(typeof store.admit, 'admit').toBe('function')
    expect(typeof store.admitMessage, 'admitMessage').toBe('function')
    expect(typeof store.cleanup, 'cleanup').toBe('function')
  },
})

export const connectionChecks = group('connections', {
  'create inserts a connected record that get returns': async ({ store, clock }) => {
    const input = newConnection(clock, 'Abc123=', { userId: 'user-7', channels: ['room-1'] })
    expect(await create(store, input)).toBe(true)
    const record = await store.connections.get('Abc123=')
    expect(record).not.toBeNull()
    expect(connectionFields(record as ConnectionRecord)).toEqual(freshRecord(input))
    expect(await channelsOf(store, 'Abc123=')).toEqual(['room-1'])
  },

  'create keeps null fields and channels in the given order': async ({ store, clock }) => {
    const input = newConnection(clock, 'nulls', {
      userId: null,
      apiId: null,
      stage: null,
      domainName: null,
      channels: ['b-room', 'a-room', 'c_room'],
    })
    expect(await create(store, input)).toBe(true)
    const record = (await store.connections.get('nulls')) as ConnectionRecord
    expect(record.userId).toBeNull()
    expect(record.apiId).toBeNull()
    expect(record.stage).toBeNull()
    expect(record.domainName).toBeNull()
    expect(await channelsOf(store, 'nulls')).toEqual(['b-room', 'a-room', 'c_room'])
  },

  'create resolves false for an existing id and changes nothing': async ({ store, clock }) => {
    await create(store, newConnection(clock, 'dup', { userId: 'first' }))
    const before = await store.connections.get('dup')
    clock.advance(1_000)
    const replay = newConnection(clock, 'dup', { userId: 'second', channels: ['replayed'] })
    expect(await create(store, replay)).toBe(false)
    expect(await store.connections.get('dup')).toEqual(before)
    expect(await channelsOf(store, 'dup')).toEqual([])
    expect(idsOf(await listAll(store, { userId: 'second' }, 10))).toEqual([])
    expect(idsOf(await listAll(store, { channel: 'replayed' }, 10))).toEqual([])
  },

  'create resolves false for the id of a disconnected record, which stays disconnected': async ({
    store,
    clock,
  }) => {
    await create(store, newConnection(clock, 'gone'))
    expect(await store.connections.disconnect('gone', clock.now())).toBe(true)
    clock.advance(1_000)
    expect(await create(store, newConnection(clock, 'gone'))).toBe(false)
    const record = (await store.connections.get('gone')) as ConnectionRecord
    expect(record.disconnectedAt).toBe(clock.now() - 1_000)
    expect(idsOf(await listAll(store, { all: true }, 10))).toEqual([])
  },

  'get resolves null for an unknown id': async ({ store, clock }) => {
    await create(store, newConnection(clock, 'known'))
    expect(await store.connections.get('unknown')).toBeNull()
    expect(await store.connections.get('know')).toBeNull()
  },

  'touch increments requestCount and sets lastSeenAt, resolving the updated record': async ({
    store,
    clock,
  }) => {
    const input = newConnection(clock, 'toucher')
    await create(store, input)
    clock.advance(1_000)
    const first = await store.connections.touch('toucher', clock.now())
    expect(first?.requestCount).toBe(1)
    expect(first?.lastSeenAt).toBe(input.connectedAt + 1_000)
    clock.advance(2_500)
    const second = await store.connections.touch('toucher', clock.now())
    expect(connectionFields(second as ConnectionRecord)).toEqual({
      ...freshRecord(input),
      lastSeenAt: input.connectedAt + 3_500,
      requestCount: 2,
    })
    expect(await store.connections.get('toucher')).toEqual(second)
  },

  'touch resolves null for unknown and disconnected ids and changes nothing': async ({
    store,
    clock,
  }) => {
    expect(await store.connections.touch('nobody', clock.now())).toBeNull()
    await create(store, newConnection(clock, 'closed'))
    await store.connections.touch('closed', clock.now() + 10)
    await store.connections.disconnect('closed', clock.now() + 20)
    const before = await store.connections.get('closed')
    expect(await store.connections.touch('closed', clock.now() + 30)).toBeNull()
    expect(await store.connections.get('closed')).toEqual(before)
    expect(before?.requestCount).toBe(1)
    expect(before?.lastSeenAt).toBe(clock.now() + 10)
  },

  'disconnect marks the record once; repeats and unknown ids resolve false': async ({
    store,
    clock,
  }) => {
    await create(store, newConnection(clock, 'leaver', { channels: ['room'] }))
    clock.advance(5_000)
    expect(await store.connections.disconnect('leaver', clock.now())).toBe(true)
    expect((await store.connections.get('leaver'))?.disconnectedAt).toBe(clock.now())
    expect(await store.connections.disconnect('leaver', clock.now() + 1)).toBe(false)
    expect((await store.connections.get('leaver'))?.disconnectedAt).toBe(clock.now())
    expect(await store.connections.disconnect('stranger', clock.now())).toBe(false)
    expect(await store.connections.get('stranger')).toBeNull()
  },
})

export const listChecks = group('connections.list', {
  'lists connected records only, by user, by channel and all': async ({ store, clock }) => {
    await createAll(store, [
      newConnection(clock, 'c1', { userId: 'user-1', channels: ['room-a'] }),
      newConnection(clock, 'c2', { userId: 'user-1', channels: ['room-b'] }),
      newConnection(clock, 'c3', { userId: 'user-2', channels: ['room-a'] }),
      newConnection(clock, 'c4', { userId: null, channels: ['room-a'] }),
      newConnection(clock, 'c5', { userId: 'user-1', channels: ['room-a', 'room-b'] }),
    ])
    await store.connections.disconnect('c5', clock.now())
    await store.connections.touch('c1', clock.now() + 1)
    const list = async (filter: ConnectionFilter) => idsOf(await listAll(store, filter, 10))
    expect(await list({ userId: 'user-1' })).toEqual(['c1', 'c2'])
    expect(await list({ userId: 'user-2' })).toEqual(['c3'])
    expect(await list({ userId: 'user-3' })).toEqual([])
    expect(await list({ channel: 'room-a' })).toEqual(['c1', 'c3', 'c4'])
    expect(await list({ channel: 'room-b' })).toEqual(['c2'])
    expect(await list({ channel: 'room-c' })).toEqual([])
    expect(await list({ all: true })).toEqual(['c1', 'c2', 'c3', 'c4'])
    // Listed records are whole, current records.
    const [c1] = (await store.connections.list({ userId: 'user-1' }, { limit: 1 })).items
    expect(c1).toEqual(await store.connections.get('c1'))
    expect(c1?.requestCount).toBe(1)
  },

  'orders records by connection id in binary (code unit) order': async ({ store, clock }) => {
    const ids = ['b', 'B', 'a-1', 'a_1', 'a=1', '0', 'Z', 'z', 'a', 'A9', '_', '-', '=', 'aa']
    await createAll(
      store,
      ids.map((id) => newConnection(clock, id, { channels: ['room'] })),
    )
    const expected = binarySorted(ids)
    expect(idsOf(await listAll(store, { all: true }, 100))).toEqual(expected)
    expect(idsOf(await listAll(store, { channel: 'room' }, 3))).toEqual(expected)
    expect(idsOf(await listAll(store, { userId: 'user-1' }, 1))).toEqual(expected)
  },

  'respects limit; the page holding the last record has a null nextCursor': async ({
    store,
    clock,
  }) => {
    const empty = await store.connections.list({ all: true }, { limit: 10 })
    expect(empty).toEqual({ items: [], nextCursor: null })
    const ids = ['p1', 'p2', 'p3', 'p4', 'p5', 'p6']
    await createAll(
      store,
      ids.map((id) => newConnection(clock, id)),
    )
    for (const limit of [1, 2, 3, 4, 6, 7, 100]) {
      expect(idsOf(await listAll(store, { all: true }, limit)), `limit ${limit}`).toEqual(ids)
    }
    const whole = await store.connections.list({ all: true }, { limit: 6 })
    expect(idsOf(whole.items)).toEqual(ids)
    expect(whole.nextCursor, 'nothing follows the 6th of 6 records').toBeNull()
    const first = await store.connections.list({ all: true }, { cursor: null, limit: 2 })
    const absent = await store.connections.list({ all: true }, { limit: 2 })
    expect(idsOf(absent.items)).toEqual(idsOf(first.items))
    expect(first.items.length).toBeGreaterThan(0)
    expect(first.nextCursor).not.toBeNull()
  },

  'pages over 1,000 connections with no overlap or gap': {
    timeoutMs: 60_000,
    run: async ({ store, clock }) => {
      const ids = scrambledIds(1_000, 0x5eed)
      await createAll(
        store,
        ids.map((id, i) =>
          newConnection(clock, id, {
            userId: `user-${i % 7}`,
            channels: [...(i % 2 === 0 ? ['even'] : []), ...(i % 3 === 0 ? ['three'] : [])],
          }),
        ),
      )
      const leaving = ids.filter((_, i) => i % 10 === 5)
      await inBatches(leaving, 50, (id) => store.connections.disconnect(id, clock.now()))
      const connected = (keep: (i: number) => boolean) =>
        binarySorted(ids.filter((_, i) => i % 10 !== 5 && keep(i)))

      const all = idsOf(await listAll(store, { all: true }, 100))
      expect(all).toHaveLength(900)
      expect(all).toEqual(connected(() => true))
      expect(idsOf(await listAll(store, { channel: 'even' }, 37))).toEqual(
        connected((i) => i % 2 === 0),
      )
      expect(idsOf(await listAll(store, { channel: 'three' }, 1_000))).toEqual(
        connected((i) => i % 3 === 0),
      )
      expect(idsOf(await listAll(store, { userId: 'user-3' }, 25))).toEqual(
        connected((i) => i % 7 === 3),
      )
    },
  },

  'never repeats a record, nor skips one that exists throughout, while others come and go': async ({
    store,
    clock,
  }) => {
    const ids = range(0, 29).map((i) => `m${String(i).padStart(2, '0')}`)
    await createAll(
      store,
      ids.map((id) => newConnection(clock, id, { channels: ['room'] })),
    )
    const changed = new Set<string>()
    const seen: string[] = []
    let cursor: string | null = null
    let round = 0
    for (; round < 40; round += 1) {
      const page: Page<ConnectionRecord> = await store.connections.list(
        { channel: 'room' },
        { cursor, limit: 5 },
      )
      seen.push(...idsOf(page.items))
      if (page.nextCursor === null) break
      cursor = page.nextCursor
      // Between pages: a record already returned leaves (an offset would now skip one), a
      // record ahead leaves the channel, and new records appear before and after the cursor.
      const [firstOfPage] = idsOf(page.items)
      if (firstOfPage !== undefined) {
        await store.connections.disconnect(firstOfPage, clock.now())
        changed.add(firstOfPage)
      }
      const ahead = `m${String(27 - round).padStart(2, '0')}`
      await store.connections.unsubscribe(ahead, 'room')
      changed.add(ahead)
      for (const id of [`m0${round}x`, `m9${round}`]) {
        await create(store, newConnection(clock, id, { channels: ['room'] }))
        changed.add(id)
      }
    }
    expect(round, 'paging terminated').toBeLessThan(40)
    expect(new Set(seen).size, 'no record is returned twice').toBe(seen.length)
    expect(seen, 'records arrive in ascending order').toEqual(binarySorted(seen))
    for (const id of ids) {
      if (!changed.has(id)) expect(seen, `${id} exists throughout`).toContain(id)
    }
  },
})
