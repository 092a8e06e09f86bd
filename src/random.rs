//! Secure random bytes. On wasm32 they are drawn from a small pool refilled by the host's
//! `crypto.getRandomValues`: one call costs microseconds in Node (validation, a copy into
//! wasm memory), which showed in every cold acquire. Natively each request goes to the OS,
//! so a forked process can never repeat its parent's bytes.

/// Fills `bytes` with secure random bytes.
pub fn fill(bytes: &mut [u8]) -> Result<(), getrandom::Error> {
    #[cfg(target_arch = "wasm32")]
    {
        pool::fill(bytes)
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        getrandom::fill(bytes)
    }
}

#[cfg(target_arch = "wasm32")]
mod pool {
    use std::cell::RefCell;

    const POOL_BYTES: usize = 512;

    struct Pool {
        bytes: [u8; POOL_BYTES],
        /// Bytes before this index were handed out and wiped.
        next: usize,
    }

    thread_local! {
        static POOL: RefCell<Pool> = const {
            RefCell::new(Pool { bytes: [0; POOL_BYTES], next: POOL_BYTES })
        };
    }

    pub fn fill(out: &mut [u8]) -> Result<(), getrandom::Error> {
        if out.len() > POOL_BYTES {
            return getrandom::fill(out);
        }
        POOL.with(|pool| {
            let mut pool = pool.borrow_mut();
            if POOL_BYTES - pool.next < out.len() {
                getrandom::fill(&mut pool.bytes)?;
                pool.next = 0;
            }
            let start = pool.next;
            let taken = &mut pool.bytes[start..start + out.len()];
            out.copy_from_slice(taken);
            // Handed-out bytes leave the pool: nothing later can read them back from memory.
            taken.fill(0);
            pool.next += out.len();
            Ok(())
        })
    }
}
