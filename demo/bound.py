"""Handlers at module level, given what they need besides the page's values when a tab is built."""
import functools
import inspect


def bound(handler, *first):
    """`handler` with its first arguments given, as gradio takes an event's handler: a function of the rest of
    `handler`'s parameters (gradio passes the inputs' values to them, and a gr.Request to the one annotated so), and
    a generator function or a coroutine function where `handler` is one (gradio streams what it yields, and
    awaits what it returns). functools.partial would not do:
    gradio does not see the annotations through it, and the handler would get no gr.Request."""
    if inspect.isgeneratorfunction(handler):
        def event(*args, **kwargs):
            return (yield from handler(*first, *args, **kwargs))
    elif inspect.iscoroutinefunction(handler):  # gradio awaits a handler only when it is a coroutine function
        async def event(*args, **kwargs):
            return await handler(*first, *args, **kwargs)
    else:
        def event(*args, **kwargs):
            return handler(*first, *args, **kwargs)
    functools.update_wrapper(event, handler)
    signature = inspect.signature(handler)
    event.__signature__ = signature.replace(parameters=list(signature.parameters.values())[len(first):])
    return event
