//! cctoken's core cut down to what a client-secret app needs: the client (cache, single-flight,
//! retries, timeouts) over the JS host, one constructor and one method. No certificate
//! entry points, loaders, broker client, protected-API helper or result object.
use cctoken::js::{JsFetch, JsHost};
use cctoken::{ClientConfig, ConfidentialClient, Credential, TokenEndpoint, TokenRequest};
use wasm_bindgen::prelude::*;

/// A client-secret client.
#[wasm_bindgen]
pub struct SliceClient(ConfidentialClient<JsHost>);

fn message(error: cctoken::Error) -> JsValue {
    JsValue::from_str(error.message())
}

#[wasm_bindgen]
impl SliceClient {
    /// A client for `authority` with a client secret.
    #[wasm_bindgen(constructor)]
    pub fn new(client_id: &str, authority: &str, secret: &str) -> Result<SliceClient, JsValue> {
        let endpoint = TokenEndpoint::from_authority(authority).map_err(message)?;
        let credential = Credential::client_secret(secret).map_err(message)?;
        let config = ClientConfig::new(client_id, endpoint, credential).map_err(message)?;
        let host = JsHost::new(JsFetch::global().map_err(message)?);
        Ok(SliceClient(ConfidentialClient::new(config, host)))
    }

    /// Resolves to the access token for `scope`.
    pub fn acquire(&self, scope: String) -> js_sys::Promise {
        let client = self.0.clone();
        wasm_bindgen_futures::future_to_promise(async move {
            let scopes = client.scopes([scope]).map_err(message)?;
            let result = client
                .acquire_token_for_client(TokenRequest::new(scopes))
                .await
                .map_err(message)?;
            Ok(JsValue::from_str(result.access_token.expose()))
        })
    }
}
