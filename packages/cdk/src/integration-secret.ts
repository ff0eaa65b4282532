/**
 * `IntegrationSecret`: where the HTTP integration's shared secret comes from. Every source
 * becomes a CloudFormation dynamic reference (`{{resolve:…}}`), which CloudFormation resolves at
 * deploy time, so the plaintext never appears in the synthesized template or the CDK output.
 */
import type { IGrantable } from 'aws-cdk-lib/aws-iam'
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager'
import * as ssm from 'aws-cdk-lib/aws-ssm'
import type { Construct } from 'constructs'
import type { SecretSource } from './settings.js'

/** What a bound secret gives the construct. */
export interface BoundIntegrationSecret {
  /** The secret as a template token (a dynamic reference), never the plaintext. */
  readonly value: string
  /** Where the backend reads it; serialized into `APIGW_WS_SECRET_SOURCE`. */
  readonly source: SecretSource
  /** Lets `grantee` read the secret at run time. */
  readonly grantRead: (grantee: IGrantable) => void
}

/** The parts of a Secrets Manager secret construct (`ISecret`) the integration secret uses. */
export type SecretsManagerSecret = Pick<
  ISecret,
  'secretArn' | 'secretValue' | 'secretValueFromJson' | 'grantRead'
>

/** The integration secret's source. Create one with the static factories. */
export abstract class IntegrationSecret {
  /**
   * A Secrets Manager secret of yours (for example `new secretsmanager.Secret(…)` with a generated
   * string). With `jsonField`, the secret string is a JSON object and the field holds the value.
   * The value must not contain a single quote (API Gateway quotes static mapping values with it).
   */
  static fromSecret(
    secret: SecretsManagerSecret,
    options: { readonly jsonField?: string } = {},
  ): IntegrationSecret {
    return new SecretsManagerSource(secret, options.jsonField)
  }

  /**
   * An SSM `String` parameter by name (dynamic reference `{{resolve:ssm:…}}`). CloudFormation
   * resolves `ssm-secure` (SecureString) references only for a fixed list of resource types that
   * does not include API Gateway integrations, so restrict read access to the parameter, or
   * prefer Secrets Manager.
   */
  static fromSsmParameter(parameterName: string): IntegrationSecret {
    return new SsmSource(parameterName)
  }

  /** Binds the source to the construct that maps it. */
  abstract bind(scope: Construct): BoundIntegrationSecret
}

class SecretsManagerSource extends IntegrationSecret {
  constructor(
    private readonly secret: SecretsManagerSecret,
    private readonly jsonField: string | undefined,
  ) {
    super()
  }

  bind(): BoundIntegrationSecret {
    const value =
      this.jsonField === undefined
        ? this.secret.secretValue
        : this.secret.secretValueFromJson(this.jsonField)
    const source: SecretSource =
      this.jsonField === undefined
        ? { kind: 'secretsmanager', secretId: this.secret.secretArn }
        : { kind: 'secretsmanager', secretId: this.secret.secretArn, jsonField: this.jsonField }
    return {
      value: value.unsafeUnwrap(),
      source,
      grantRead: (grantee) => {
        this.secret.grantRead(grantee)
      },
    }
  }
}

class SsmSource extends IntegrationSecret {
  constructor(private readonly parameterName: string) {
    super()
    if (typeof parameterName !== 'string' || parameterName.length === 0) {
      throw new TypeError(
        'IntegrationSecret.fromSsmParameter: parameterName must be a non-empty string',
      )
    }
  }

  bind(scope: Construct): BoundIntegrationSecret {
    const parameter = ssm.StringParameter.fromStringParameterName(
      scope,
      'IntegrationSecretParameter',
      this.parameterName,
    )
    return {
      value: `{{resolve:ssm:${this.parameterName}}}`,
      source: { kind: 'ssm', parameterName: this.parameterName },
      grantRead: (grantee) => {
        parameter.grantRead(grantee)
      },
    }
  }
}
