"""The floor under the sources and the normaliser: what a deployment's text may hold that dpaguard must recognise.

    credentials  Scaleway and DataPacket credentials in any text, and their redaction
    redact       secrets and sensitive-named plaintext in properties and config, redacted
    types        the provider's type tokens: deprecated ones mapped, and what each type takes

Sources redact with these as they read a deployment; the normaliser recognises what they left
(the markers, the type tokens). Both look down here; nothing here looks up at them.
"""
