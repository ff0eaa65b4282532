import { project } from '../../vitest.project.js'

// The store's tests once more, against kysely-newest: the newest 0.29 release, where `Migrator` left the root export.
export default project('store-kysely (kysely-newest)', {
  resolve: { alias: [{ find: /^kysely$/, replacement: 'kysely-newest' }] },
})
