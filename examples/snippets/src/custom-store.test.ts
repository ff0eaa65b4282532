import { testStore } from '@apigw-ws/core/testing'
import { mapStore } from './custom-store.js'

testStore({ name: 'mapStore (docs/custom-store.md)', create: mapStore })
