// A cut-down Mail connection schema as the server writes it (pydantic's JSON Schema).
export const mailConnectionSchema = {
  type: "object",
  additionalProperties: false,
  required: ["host"],
  properties: {
    host: { type: "string", title: "Host", description: "The mail server's host name.", group: "Server" },
    port: {
      anyOf: [{ type: "integer", minimum: 1, maximum: 65535 }, { type: "null" }],
      default: null, title: "Port", description: "The server port.", group: "Server",
    },
    use_tls: { type: "boolean", default: true, title: "Use TLS?", group: "Security" },
    user_password_auth: { type: "boolean", default: false, title: "User/Password Authorization?", group: "Login" },
    user_name: { type: "string", default: "", title: "User Name", group: "Login", show_if: { user_password_auth: true } },
    password: {
      type: "string", default: "", title: "Password", group: "Login", secret: true, writeOnly: true,
      show_if: { user_password_auth: true },
    },
    auth_mechanism: {
      type: "string", enum: ["auto", "plain"], default: "auto", title: "Login mechanism", group: "Login",
      show_if: { user_password_auth: true },
    },
  },
};

export const mailOperationSchema = {
  type: "object",
  properties: {
    action: { type: "string", enum: ["send", "get"], default: "send", title: "Connector Action", group: "Action" },
    subject: { type: "string", default: "", title: "Subject", group: "Message", show_if: { action: "send" } },
  },
};
