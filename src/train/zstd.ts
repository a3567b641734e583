// zstd for protobuf forward_backward bodies, where a Tinker server's client/config says proto_compress_fwdbwd (the SDK
// then compresses with zstandard's defaults and sends Content-Encoding: zstd). Node 20's zlib has no zstd; this is
// @bokuweb/zstd-wasm (zstd's own C library built to WebAssembly, shipped inside the npm package), loaded on first use.

type Zstd = { compress(data: Uint8Array, level?: number): Uint8Array; decompress(data: Uint8Array): Uint8Array };

let loading: Promise<Zstd> | undefined;

function zstd(): Promise<Zstd> {
  loading ??= (async () => {
    const imported = await import("@bokuweb/zstd-wasm");
    const lib = ((imported as { default?: unknown }).default ?? imported) as Zstd & { init(): Promise<void> };
    await lib.init();
    return lib;
  })();
  return loading;
}

/** One zstd frame at level 3, zstd's (and the SDK's) default. */
export async function zstdCompress(data: Uint8Array): Promise<Uint8Array> {
  return (await zstd()).compress(data, 3);
}

export async function zstdDecompress(data: Uint8Array): Promise<Uint8Array> {
  return (await zstd()).decompress(data);
}
