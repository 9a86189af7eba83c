"""Whether the configured model answers: one short request, for an editor's "test the connection"."""

from __future__ import annotations

from dataclasses import dataclass

from .host import Host

#: Any answer at all shows that the endpoint, the key and the model's name work; a short one costs little.
PING = [{"role": "user", "content": "Reply with the single word OK."}]


@dataclass
class ModelCheck:
    """The model that answered, where it lives, the start of its answer, and how long it took."""

    model: str
    endpoint: str
    answer: str
    seconds: float


async def check_model(host: Host) -> ModelCheck:
    """Send one short request to the configured model. A model that cannot be reached, rejects the key
    or does not exist raises the same ModelError (with its kind) as any other model call."""
    completion = await host.model.complete(PING)
    settings = host.model.settings
    return ModelCheck(settings.model, settings.describe_endpoint(), completion.text.strip()[:200],
                      round(completion.seconds, 2))
