"""LangChain's own standard tests (`langchain-tests`) against our implementations of its
interfaces: the embedded chat model, the embeddings and a bot's knowledge base as a retriever.
Passing them is what lets any LangChain app use these pieces as it would LangChain's own."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from langchain_core.documents import Document
from langchain_tests.integration_tests import (
    ChatModelIntegrationTests,
    EmbeddingsIntegrationTests,
    RetrieversIntegrationTests,
)
from langchain_tests.unit_tests import ChatModelUnitTests, EmbeddingsUnitTests

from chatbot.llm.llamacpp import LlamaCppChatModel, packaged_gguf
from chatbot.llm.ollama_pool import OllamaPool
from knowledge.base import KnowledgeBase
from knowledge.embeddings import SentenceEmbedder
from knowledge.retriever import KnowledgeRetriever


class TextOnlyChatModel:
    """What our chat models do not do, said once for LangChain's suites: the product asks them
    for text from passages, never for tool calls or structured output."""

    @property
    def has_tool_calling(self) -> bool:
        return False

    @property
    def has_structured_output(self) -> bool:
        return False


class EmbeddedChatModel(TextOnlyChatModel):
    @property
    def chat_model_class(self) -> type[LlamaCppChatModel]:
        return LlamaCppChatModel

    @property
    def chat_model_params(self) -> dict[str, Any]:
        return {"model_path": str(packaged_gguf()), "temperature": 0.0}


@pytest.mark.contract
class TestEmbeddedChatModelUnit(EmbeddedChatModel, ChatModelUnitTests):
    pass


@pytest.mark.contract
class TestEmbeddedChatModel(EmbeddedChatModel, ChatModelIntegrationTests):
    pass


class OllamaServers(TextOnlyChatModel):
    """Several Ollama servers as one model (no server is asked by the unit suite)."""

    @property
    def chat_model_class(self) -> type[OllamaPool]:
        return OllamaPool

    @property
    def chat_model_params(self) -> dict[str, Any]:
        hosts = ["http://127.0.0.1:11434", "http://127.0.0.1:11435"]
        return {"hosts": hosts, "model": "qwen2.5:3b", "temperature": 0.0}


@pytest.mark.contract
class TestOllamaPoolUnit(OllamaServers, ChatModelUnitTests):
    pass


@pytest.mark.contract
class TestEmbeddingsUnit(EmbeddingsUnitTests):
    @property
    def embeddings_class(self) -> type[SentenceEmbedder]:
        return SentenceEmbedder


@pytest.mark.contract
class TestEmbeddings(EmbeddingsIntegrationTests):
    @property
    def embeddings_class(self) -> type[SentenceEmbedder]:
        return SentenceEmbedder


@pytest.mark.contract
class TestKnowledgeRetriever(RetrieversIntegrationTests):
    @pytest.fixture(autouse=True)
    def _shop(self, shop_knowledge: KnowledgeBase) -> None:
        self.knowledge = shop_knowledge

    @property
    def retriever_constructor(self) -> type[KnowledgeRetriever]:
        return KnowledgeRetriever

    @property
    def retriever_constructor_params(self) -> dict[str, Any]:
        return {"knowledge": self.knowledge}

    @property
    def retriever_query_example(self) -> str:
        return "How much does an iPhone battery replacement cost?"


def test_a_bots_knowledge_opens_as_a_retriever_whose_documents_say_where_they_come_from(
    demo_shop: Path,
) -> None:
    retriever = KnowledgeRetriever.from_data_dir(demo_shop, "demo-shop", k=2)
    documents = retriever.invoke("How much does an iPhone battery replacement cost?")
    assert len(documents) == 2 and all(isinstance(d, Document) for d in documents)
    battery = next(d for d in documents if "iPhone battery: RM150" in d.page_content)
    assert battery.metadata["source"] == "price-list.pdf"
    assert battery.metadata["title"] == "Gadget Care Penang price list"
    assert battery.metadata["page"] == 1
    assert "Battery replacement" in battery.metadata["section"]
    assert documents[0].metadata["score"] >= documents[1].metadata["score"] > 0


def test_a_bot_without_knowledge_is_refused_with_the_reason(tmp_path: Path) -> None:
    with pytest.raises(Exception, match="no knowledge base for bot 'nobody'"):
        KnowledgeRetriever.from_data_dir(tmp_path, "nobody")
