"""The GraphQL documents plansync sends for Projects v2: constants, every value a variable (tests validate
each against GitHub's published schema with graphql-core).

Cost (GitHub's rule: the requests each connection needs, divided by 100, rounded, at least 1):
- PROJECT: the project's fields (one connection), `items(first: 1)` for the count and one search: 1 point.
- ITEMS: a page of 100 items (1 request) whose contents each open `labels` and `assignees` (100 + 100):
  201 / 100 = 2 points. Field values are read by name (`fieldValueByName`, not a connection): free.
"""

from __future__ import annotations

PROJECT = """
query PlansyncProject($owner: String!, $number: Int!, $search: String!, $incremental: Boolean!) {
  repositoryOwner(login: $owner) {
    login
    ... on ProjectV2Owner {
      projectV2(number: $number) {
        id
        title
        url
        closed
        updatedAt
        items(first: 1) { totalCount }
        fields(first: 100) {
          nodes {
            ... on ProjectV2FieldCommon { id name dataType }
            ... on ProjectV2SingleSelectField { options { id name } }
            ... on ProjectV2IterationField {
              configuration {
                iterations { id title startDate duration }
                completedIterations { id title startDate duration }
              }
            }
          }
        }
      }
    }
  }
  changed: search(query: $search, type: ISSUE, first: 1) @include(if: $incremental) { issueCount }
  rateLimit { cost limit remaining resetAt }
}
"""

ITEMS = """
query PlansyncProjectItems($id: ID!, $after: String, $due: String!, $withDue: Boolean!, $status: String!,
                           $withStatus: Boolean!, $filter: String!, $withFilter: Boolean!) {
  node(id: $id) {
    ... on ProjectV2 {
      items(first: 100, after: $after) {
        pageInfo { hasNextPage endCursor }
        nodes {
          id
          type
          isArchived
          updatedAt
          due: fieldValueByName(name: $due) @include(if: $withDue) { ...PlansyncValue }
          status: fieldValueByName(name: $status) @include(if: $withStatus) { ...PlansyncValue }
          filter: fieldValueByName(name: $filter) @include(if: $withFilter) { ...PlansyncValue }
          content {
            __typename
            ... on Issue {
              fullDatabaseId number title body url state stateReason createdAt updatedAt closedAt
              repository { nameWithOwner }
              milestone { title }
            }
            ... on PullRequest {
              fullDatabaseId number title body url prState: state createdAt updatedAt closedAt
              repository { nameWithOwner }
              milestone { title }
            }
            ... on Labelable { labels(first: 100) { nodes { name } } }
            ... on Assignable { assignees(first: 20) { nodes { login } } }
          }
        }
      }
    }
  }
  rateLimit { cost limit remaining resetAt }
}

fragment PlansyncValue on ProjectV2ItemFieldValue {
  __typename
  ... on ProjectV2ItemFieldDateValue { date }
  ... on ProjectV2ItemFieldIterationValue { iterationId title startDate duration }
  ... on ProjectV2ItemFieldSingleSelectValue { optionId name }
}
"""

STATUS_UPDATES = """
query PlansyncStatusUpdates($id: ID!) {
  node(id: $id) {
    ... on ProjectV2 {
      statusUpdates(first: 20, orderBy: {field: CREATED_AT, direction: DESC}) {
        nodes { id body status targetDate createdAt }
      }
    }
  }
  rateLimit { cost limit remaining resetAt }
}
"""

CREATE_STATUS_UPDATE = """
mutation PlansyncCreateStatusUpdate($input: CreateProjectV2StatusUpdateInput!) {
  createProjectV2StatusUpdate(input: $input) { statusUpdate { id } }
}
"""

UPDATE_STATUS_UPDATE = """
mutation PlansyncUpdateStatusUpdate($input: UpdateProjectV2StatusUpdateInput!) {
  updateProjectV2StatusUpdate(input: $input) { statusUpdate { id } }
}
"""

ALL = {"PlansyncProject": PROJECT, "PlansyncProjectItems": ITEMS, "PlansyncStatusUpdates": STATUS_UPDATES,
       "PlansyncCreateStatusUpdate": CREATE_STATUS_UPDATE, "PlansyncUpdateStatusUpdate": UPDATE_STATUS_UPDATE}
