/**
 * A Kysely plugin that maps the store's logical table names (`connections`, `subscriptions`,
 * `tokens`, `rate_limits`) to their prefixed physical names. Queries stay typed against
 * `StoreDatabase` while the database holds `<prefix>connections` and so on. Only table
 * references whose name is exactly a logical name are rewritten: aliases, `excluded`, and
 * schema-qualified tables pass through untouched.
 */
import {
  type KyselyPlugin,
  OperationNodeTransformer,
  type PluginTransformQueryArgs,
  type PluginTransformResultArgs,
  type QueryResult,
  type RootOperationNode,
  type TableNode,
  type UnknownRow,
} from 'kysely'

class TablePrefixTransformer extends OperationNodeTransformer {
  readonly #names: ReadonlyMap<string, string>

  constructor(names: ReadonlyMap<string, string>) {
    super()
    this.#names = names
  }

  protected override transformTable(node: TableNode): TableNode {
    const table = super.transformTable(node)
    if (table.table.schema !== undefined) return table
    const physical = this.#names.get(table.table.identifier.name)
    if (physical === undefined) return table
    return Object.freeze({
      ...table,
      table: Object.freeze({
        ...table.table,
        identifier: Object.freeze({ ...table.table.identifier, name: physical }),
      }),
    })
  }
}

/**
 * Creates the plugin for a logical → physical name map. Stateless after construction, so one
 * instance may serve any number of concurrent queries. Results pass through unchanged.
 */
export function tablePrefixPlugin(names: Readonly<Record<string, string>>): KyselyPlugin {
  const transformer = new TablePrefixTransformer(new Map(Object.entries(names)))
  return {
    transformQuery(args: PluginTransformQueryArgs): RootOperationNode {
      return transformer.transformNode(args.node, args.queryId)
    },
    async transformResult(args: PluginTransformResultArgs): Promise<QueryResult<UnknownRow>> {
      return args.result
    },
  }
}
