/**
 * The part of the CloudWatch Logs API model (logs 2014-03-28, JSON 1.1) that the emulator serves: the input
 * shapes of its operations with their constraints (required members, lengths, ranges, patterns, enums).
 * Extracted from the AWS model; documentation dropped.
 *
 * @internal
 */

/** @internal */
export type Shape =
  | {
    readonly type: "structure"
    readonly required?: ReadonlyArray<string>
    readonly members: Readonly<Record<string, string>>
  }
  | { readonly type: "list"; readonly min?: number; readonly max?: number; readonly member: string }
  | { readonly type: "map"; readonly min?: number; readonly max?: number; readonly key: string; readonly value: string }
  | {
    readonly type: "string"
    readonly min?: number
    readonly max?: number
    readonly pattern?: string
    readonly enum?: ReadonlyArray<string>
  }
  | { readonly type: "integer" | "long"; readonly min?: number; readonly max?: number }
  | { readonly type: "boolean" }

/** @internal */
export const shapes: Readonly<Record<string, Shape>> = {
  "CreateLogGroupRequest": {
    "type": "structure",
    "required": [
      "logGroupName"
    ],
    "members": {
      "logGroupName": "LogGroupName",
      "kmsKeyId": "KmsKeyId",
      "tags": "Tags",
      "logGroupClass": "LogGroupClass",
      "deletionProtectionEnabled": "DeletionProtectionEnabled"
    }
  },
  "LogGroupName": {
    "type": "string",
    "min": 1,
    "max": 512,
    "pattern": "[\\.\\-_/#A-Za-z0-9]+"
  },
  "KmsKeyId": {
    "type": "string",
    "max": 256
  },
  "Tags": {
    "type": "map",
    "min": 1,
    "max": 50,
    "key": "TagKey",
    "value": "TagValue"
  },
  "TagKey": {
    "type": "string",
    "min": 1,
    "max": 128,
    "pattern": "^([\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]+)$"
  },
  "TagValue": {
    "type": "string",
    "max": 256,
    "pattern": "^([\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*)$"
  },
  "LogGroupClass": {
    "type": "string",
    "enum": [
      "STANDARD",
      "INFREQUENT_ACCESS",
      "DELIVERY"
    ]
  },
  "DeletionProtectionEnabled": {
    "type": "boolean"
  },
  "CreateLogStreamRequest": {
    "type": "structure",
    "required": [
      "logGroupName",
      "logStreamName"
    ],
    "members": {
      "logGroupName": "LogGroupName",
      "logStreamName": "LogStreamName"
    }
  },
  "LogStreamName": {
    "type": "string",
    "min": 1,
    "max": 512,
    "pattern": "[^:*]*"
  },
  "DeleteLogGroupRequest": {
    "type": "structure",
    "required": [
      "logGroupName"
    ],
    "members": {
      "logGroupName": "LogGroupName"
    }
  },
  "DeleteLogStreamRequest": {
    "type": "structure",
    "required": [
      "logGroupName",
      "logStreamName"
    ],
    "members": {
      "logGroupName": "LogGroupName",
      "logStreamName": "LogStreamName"
    }
  },
  "DescribeLogGroupsRequest": {
    "type": "structure",
    "members": {
      "accountIdentifiers": "AccountIds",
      "logGroupNamePrefix": "LogGroupName",
      "logGroupNamePattern": "LogGroupNamePattern",
      "nextToken": "NextToken",
      "limit": "DescribeLimit",
      "includeLinkedAccounts": "IncludeLinkedAccounts",
      "logGroupClass": "LogGroupClass",
      "logGroupIdentifiers": "DescribeLogGroupsLogGroupIdentifiers"
    }
  },
  "AccountIds": {
    "type": "list",
    "min": 0,
    "max": 20,
    "member": "AccountId"
  },
  "AccountId": {
    "type": "string",
    "min": 12,
    "max": 12,
    "pattern": "^\\d{12}$"
  },
  "LogGroupNamePattern": {
    "type": "string",
    "min": 0,
    "max": 512,
    "pattern": "[\\.\\-_/#A-Za-z0-9]*"
  },
  "NextToken": {
    "type": "string",
    "min": 1
  },
  "DescribeLimit": {
    "type": "integer",
    "min": 1,
    "max": 50
  },
  "IncludeLinkedAccounts": {
    "type": "boolean"
  },
  "DescribeLogGroupsLogGroupIdentifiers": {
    "type": "list",
    "min": 1,
    "max": 50,
    "member": "LogGroupIdentifier"
  },
  "LogGroupIdentifier": {
    "type": "string",
    "min": 1,
    "max": 2048,
    "pattern": "[\\w#+=/:,.@-]*"
  },
  "DescribeLogStreamsRequest": {
    "type": "structure",
    "members": {
      "logGroupName": "LogGroupName",
      "logGroupIdentifier": "LogGroupIdentifier",
      "logStreamNamePrefix": "LogStreamName",
      "orderBy": "OrderBy",
      "descending": "Descending",
      "nextToken": "NextToken",
      "limit": "DescribeLimit"
    }
  },
  "OrderBy": {
    "type": "string",
    "enum": [
      "LogStreamName",
      "LastEventTime"
    ]
  },
  "Descending": {
    "type": "boolean"
  },
  "PutLogEventsRequest": {
    "type": "structure",
    "required": [
      "logGroupName",
      "logStreamName",
      "logEvents"
    ],
    "members": {
      "logGroupName": "LogGroupName",
      "logStreamName": "LogStreamName",
      "logEvents": "InputLogEvents",
      "sequenceToken": "SequenceToken",
      "entity": "Entity"
    }
  },
  "InputLogEvents": {
    "type": "list",
    "min": 1,
    "max": 10000,
    "member": "InputLogEvent"
  },
  "InputLogEvent": {
    "type": "structure",
    "required": [
      "timestamp",
      "message"
    ],
    "members": {
      "timestamp": "Timestamp",
      "message": "EventMessage"
    }
  },
  "Timestamp": {
    "type": "long",
    "min": 0
  },
  "EventMessage": {
    "type": "string",
    "min": 1
  },
  "SequenceToken": {
    "type": "string",
    "min": 1
  },
  "Entity": {
    "type": "structure",
    "members": {
      "keyAttributes": "EntityKeyAttributes",
      "attributes": "EntityAttributes"
    }
  },
  "EntityKeyAttributes": {
    "type": "map",
    "min": 2,
    "max": 4,
    "key": "EntityKeyAttributesKey",
    "value": "EntityKeyAttributesValue"
  },
  "EntityKeyAttributesKey": {
    "type": "string",
    "min": 1,
    "max": 32
  },
  "EntityKeyAttributesValue": {
    "type": "string",
    "min": 1,
    "max": 512
  },
  "EntityAttributes": {
    "type": "map",
    "min": 0,
    "max": 10,
    "key": "EntityAttributesKey",
    "value": "EntityAttributesValue"
  },
  "EntityAttributesKey": {
    "type": "string",
    "min": 1,
    "max": 256
  },
  "EntityAttributesValue": {
    "type": "string",
    "min": 1,
    "max": 512
  },
  "GetLogEventsRequest": {
    "type": "structure",
    "required": [
      "logStreamName"
    ],
    "members": {
      "logGroupName": "LogGroupName",
      "logGroupIdentifier": "LogGroupIdentifier",
      "logStreamName": "LogStreamName",
      "startTime": "Timestamp",
      "endTime": "Timestamp",
      "nextToken": "NextToken",
      "limit": "EventsLimit",
      "startFromHead": "StartFromHead",
      "unmask": "Unmask"
    }
  },
  "EventsLimit": {
    "type": "integer",
    "min": 1,
    "max": 10000
  },
  "StartFromHead": {
    "type": "boolean"
  },
  "Unmask": {
    "type": "boolean"
  },
  "FilterLogEventsRequest": {
    "type": "structure",
    "members": {
      "logGroupName": "LogGroupName",
      "logGroupIdentifier": "LogGroupIdentifier",
      "logStreamNames": "InputLogStreamNames",
      "logStreamNamePrefix": "LogStreamName",
      "startTime": "Timestamp",
      "endTime": "Timestamp",
      "filterPattern": "FilterPattern",
      "nextToken": "NextToken",
      "limit": "EventsLimit",
      "startFromHead": "StartFromHead",
      "interleaved": "Interleaved",
      "unmask": "Unmask"
    }
  },
  "InputLogStreamNames": {
    "type": "list",
    "min": 1,
    "max": 100,
    "member": "LogStreamName"
  },
  "FilterPattern": {
    "type": "string",
    "min": 0,
    "max": 1024
  },
  "Interleaved": {
    "type": "boolean"
  },
  "PutRetentionPolicyRequest": {
    "type": "structure",
    "required": [
      "logGroupName",
      "retentionInDays"
    ],
    "members": {
      "logGroupName": "LogGroupName",
      "retentionInDays": "Days"
    }
  },
  "Days": {
    "type": "integer"
  },
  "DeleteRetentionPolicyRequest": {
    "type": "structure",
    "required": [
      "logGroupName"
    ],
    "members": {
      "logGroupName": "LogGroupName"
    }
  }
}

/** @internal */
export const operations = {
  "CreateLogGroup": "CreateLogGroupRequest",
  "CreateLogStream": "CreateLogStreamRequest",
  "DeleteLogGroup": "DeleteLogGroupRequest",
  "DeleteLogStream": "DeleteLogStreamRequest",
  "DescribeLogGroups": "DescribeLogGroupsRequest",
  "DescribeLogStreams": "DescribeLogStreamsRequest",
  "PutLogEvents": "PutLogEventsRequest",
  "GetLogEvents": "GetLogEventsRequest",
  "FilterLogEvents": "FilterLogEventsRequest",
  "PutRetentionPolicy": "PutRetentionPolicyRequest",
  "DeleteRetentionPolicy": "DeleteRetentionPolicyRequest"
} as const

/** @internal */
export type OperationName = keyof typeof operations
