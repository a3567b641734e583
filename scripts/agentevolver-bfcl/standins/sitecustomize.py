"""Stand-ins for Python packages that BFCL's bfcl_eval imports when loaded but that AgentEvolver's BFCL environment
never calls (LLM provider SDKs of other leaderboard models, Java/JavaScript parsers), none of them packaged for
Debian. Importing one gives a module whose names are placeholders: a placeholder can be subclassed, instantiated and
configured at import time (QwenAPIHandler builds an OpenAI client it never uses; the Java parser module builds a
tree-sitter parser), and its methods answer placeholders. Nothing on the path of the multi-turn BFCL environment
calls them; a log line names every placeholder created, so a run shows what was stood in for."""
import importlib.abc
import importlib.machinery
import sys
import types

MISSING = {
    "anthropic", "cohere", "mistralai", "openai", "google", "writerai", "qwen_agent", "tree_sitter",
    "tree_sitter_java", "tree_sitter_javascript", "huggingface_hub", "transformers", "boto3", "botocore",
    "sentence_transformers", "faiss", "rank_bm25", "serpapi", "datamodel_code_generator", "wandb", "vllm", "torch",
}


class _PlaceholderType(type):
    # `from cohere import types` then `types.ToolV2`: names read off a placeholder class are placeholders too.
    def __getattr__(cls, attribute):
        if attribute.startswith("__"):
            raise AttributeError(attribute)
        value = _placeholder(cls.__name__, attribute)
        setattr(cls, attribute, value)
        return value


def _placeholder(package, name):
    class Placeholder(metaclass=_PlaceholderType):
        def __init__(self, *args, **kwargs):
            pass

        def __getattr__(self, attribute):
            if attribute.startswith("__"):
                raise AttributeError(attribute)
            return lambda *args, **kwargs: Placeholder()

        def __class_getitem__(cls, item):
            return cls

    Placeholder.__name__ = Placeholder.__qualname__ = name
    return Placeholder


class _StandIn(types.ModuleType):
    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        value = _placeholder(self.__name__.split(".")[0], name)
        print(f"[stand-in] {self.__name__}.{name}", file=sys.stderr)
        setattr(self, name, value)
        return value


class _Finder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    def find_spec(self, fullname, path, target=None):
        if fullname.split(".")[0] not in MISSING:
            return None
        return importlib.machinery.ModuleSpec(fullname, self, is_package=True)

    def create_module(self, spec):
        module = _StandIn(spec.name)
        module.__path__ = []
        return module

    def exec_module(self, module):
        pass


sys.meta_path.append(_Finder())
