//! The OpenAPI document: the routes' own `#[utoipa::path]` docs (collected by `OpenApiRouter`
//! as the routes are registered) plus the parts that belong to no route.

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "judge",
        description = "The judging service: problems, submissions, results, and sandboxed runs. \
            Every /v1 route needs `Authorization: Bearer TOKEN` (a submitter or admin token; \
            `judge token add`). Errors are `{\"error\":{\"code\",\"message\"}}`."
    ),
    modifiers(&BearerAuth),
    components(schemas(super::error::ErrorBody, super::error::ErrorDetail)),
    tags(
        (name = "problems", description = "Problem packages"),
        (name = "submissions", description = "Submissions and their results"),
        (name = "run", description = "Sandboxed runs"),
        (name = "service", description = "Languages, health, metrics"),
    )
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme("bearer", SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()));
    }
}

/// Every route may answer 500 (the service failed) and 503 (the database did not answer),
/// both with the error body: documented once here rather than on each route. Applied to the
/// document once the routes are in it (`OpenApiRouter` adds them after `ApiDoc::openapi()`).
pub struct ServerErrors;

impl Modify for ServerErrors {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::{ContentBuilder, Ref, RefOr, ResponseBuilder};
        let error = |description: &str| {
            RefOr::T(
                ResponseBuilder::new()
                    .description(description)
                    .content("application/json", ContentBuilder::new().schema(Some(Ref::from_schema_name("ErrorBody"))).build())
                    .build(),
            )
        };
        for item in openapi.paths.paths.values_mut() {
            for op in [&mut item.get, &mut item.post, &mut item.put, &mut item.delete, &mut item.patch].into_iter().flatten() {
                op.responses.responses.entry("500".to_string()).or_insert_with(|| error("The service failed"));
                op.responses.responses.entry("503".to_string()).or_insert_with(|| error("The database did not answer"));
            }
        }
    }
}
