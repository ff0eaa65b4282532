import { project } from '../../vitest.project.js'

// The store's tests once more, against kysely-lowest: the lowest version the peer range admits (0.28.0).
export default project('store-kysely (kysely-lowest)', {
  resolve: { alias: [{ find: /^kysely$/, replacement: 'kysely-lowest' }] },
})
