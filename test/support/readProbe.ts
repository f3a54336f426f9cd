/** One named check of a probe's answer (src/executor/executorProbes.ts). */
export interface ProbeCheck {
  readonly ok: boolean;
  readonly detail: string;
}

/** What an executor's `/healthz` or `/readyz` answered: the HTTP status and the JSON body. */
export interface ProbeReply {
  readonly status: number;
  readonly body: { readonly ok?: boolean; readonly checks?: Record<string, ProbeCheck> } & Record<
    string,
    unknown
  >;
}

/** Asks the executor's metrics server on 127.0.0.1:`port` for a probe. */
export async function readProbe(port: number, path: "healthz" | "readyz"): Promise<ProbeReply> {
  const res = await fetch(`http://127.0.0.1:${port}/${path}`);
  return { status: res.status, body: (await res.json()) as ProbeReply["body"] };
}
