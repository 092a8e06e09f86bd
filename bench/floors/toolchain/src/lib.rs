//! The toolchain's floor: one token request through wasm-bindgen futures with a form body and
//! a serde_json reply, and nothing else (no cache, retry, timeout or validation).
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

#[derive(serde::Deserialize)]
struct Reply {
    access_token: String,
    expires_in: u64,
}

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_name = fetch)]
    fn global_fetch(url: &str, init: &JsValue) -> js_sys::Promise;
}

fn set(target: &JsValue, name: &str, value: &JsValue) -> Result<(), JsValue> {
    js_sys::Reflect::set(target, &name.into(), value).map(|_| ())
}

/// POSTs the client-credentials form to `url`; resolves to `[access_token, expires_in]`.
#[wasm_bindgen]
pub fn acquire(url: String, client_id: String, secret: String, scope: String) -> js_sys::Promise {
    wasm_bindgen_futures::future_to_promise(async move {
        let body = form_urlencoded::Serializer::new(String::new())
            .append_pair("client_id", &client_id)
            .append_pair("scope", &scope)
            .append_pair("client_secret", &secret)
            .append_pair("grant_type", "client_credentials")
            .finish();
        let headers = js_sys::Object::new();
        set(
            &headers,
            "content-type",
            &"application/x-www-form-urlencoded".into(),
        )?;
        let init = js_sys::Object::new();
        set(&init, "method", &"POST".into())?;
        set(&init, "headers", &headers)?;
        set(&init, "body", &body.into())?;
        let response = JsFuture::from(global_fetch(&url, &init)).await?;
        let text: js_sys::Function = js_sys::Reflect::get(&response, &"text".into())?.into();
        let text = JsFuture::from(js_sys::Promise::from(text.call0(&response)?)).await?;
        let reply: Reply = serde_json::from_str(&text.as_string().unwrap_or_default())
            .map_err(|_| JsValue::from_str("not a token reply"))?;
        Ok(js_sys::Array::of2(
            &reply.access_token.into(),
            &(reply.expires_in as f64).into(),
        )
        .into())
    })
}
