"""What the chat says to visitors around the answers, in English, Malay and Chinese.

The answers themselves follow the customer's language (prompts/); these are the page's own words
and the replies to requests the server refuses. The visitor's language is that of their message,
else their browser's (Accept-Language), else English.
"""

from __future__ import annotations

from chatbot.answering.language import detect_language

LANGUAGES = ("en", "ms", "zh")

# fmt: off
TEXTS: dict[str, dict[str, str]] = {
    "en": {
        "lead_intro": "Leave your name and a phone number or e-mail, and we'll get back to you.",
        "lead_purpose": "We use these only to reply to you about this, and keep them for"
        " {days} days.",
        "lead_name": "Your name",
        "lead_phone": "Phone",
        "lead_email": "E-mail",
        "lead_message": "What is it about?",
        "lead_send": "Ask us to contact me",
        "lead_taken": "Thank you! We'll contact you as soon as we can.",
        "lead_contact_missing": "Please give a phone number or an e-mail address.",
        "lead_bad_phone": "That phone number doesn't look right. Please check it.",
        "lead_bad_email": "That e-mail address doesn't look right. Please check it.",
        "too_long_lead": "That is too long. Please keep your name and message shorter.",
        "staff": "Staff",
        "joined": "{name} joined the chat.",
        "team_joined": "A person from our team joined the chat.",
        "handed_back": "You're chatting with our assistant again.",
        "closed": "Our team closed this chat. Write again any time.",
        "placeholder": "Type your question…",
        "send": "Send",
        "open": "Chat with us",
        "close": "Close chat",
        "new_conversation": "New conversation",
        "sources": "Sources",
        "page": "p. {n}",
        "thinking": "Looking it up…",
        "too_fast": "You're sending messages quickly. Please wait a minute and try again.",
        "bot_busy": "We're helping many customers right now. Please try again in a minute.",
        "too_long": "That message is too long. Please keep it under {limit} characters.",
        "conversation_full": "This conversation is full. Please start a new conversation.",
        "empty": "Please type a question.",
        "not_allowed": "This chat is not available on this website.",
        "unknown_bot": "This chat is not available.",
        "bad_request": "Sorry, that message could not be read. Please try again.",
        "failed": "Sorry, something went wrong. Please try again.",
        "offline": "The chat cannot be reached. Please check your connection and try again.",
        "helpful": "Helpful",
        "not_helpful": "Not helpful",
        "thanks": "Thanks for telling us.",
        "feedback_ask": "How did we do?",
        "feedback_1": "Very bad",
        "feedback_2": "Bad",
        "feedback_3": "OK",
        "feedback_4": "Good",
        "feedback_5": "Very good",
        "consent_required": "Please read and accept the privacy notice before chatting.",
        "notice_changed": "Our privacy notice has changed. Please read it again.",
        "gone": "This conversation is no longer kept.",
        "privacy_title": "Before we chat",
        "agree": "Agree and chat",
        "agree_no_keep": "Chat without keeping this conversation",
        "privacy": "Privacy notice",
        "delete_conversation": "Delete this conversation",
        "confirm_delete": "Delete this conversation for good? It cannot be undone.",
        "deleted": "Your conversation has been deleted.",
        "not_kept": "This conversation is not being kept.",
        "reference": "Conversation reference: {id}",
    },
    "ms": {
        "lead_intro": "Tinggalkan nama dan nombor telefon atau e-mel anda, dan kami akan"
        " menghubungi anda.",
        "lead_purpose": "Kami menggunakannya hanya untuk membalas anda tentang perkara ini,"
        " dan menyimpannya selama {days} hari.",
        "lead_name": "Nama anda",
        "lead_phone": "Telefon",
        "lead_email": "E-mel",
        "lead_message": "Tentang apa?",
        "lead_send": "Minta kami hubungi saya",
        "lead_taken": "Terima kasih! Kami akan menghubungi anda secepat mungkin.",
        "lead_contact_missing": "Sila berikan nombor telefon atau alamat e-mel.",
        "lead_bad_phone": "Nombor telefon itu nampaknya tidak betul. Sila semak.",
        "lead_bad_email": "Alamat e-mel itu nampaknya tidak betul. Sila semak.",
        "too_long_lead": "Terlalu panjang. Sila pendekkan nama dan mesej anda.",
        "staff": "Kakitangan",
        "joined": "{name} menyertai perbualan.",
        "team_joined": "Kakitangan kami menyertai perbualan.",
        "handed_back": "Anda kini berbual dengan pembantu kami semula.",
        "closed": "Pasukan kami telah menutup perbualan ini. Tulis lagi bila-bila masa.",
        "placeholder": "Taip soalan anda…",
        "send": "Hantar",
        "open": "Sembang dengan kami",
        "close": "Tutup sembang",
        "new_conversation": "Perbualan baharu",
        "sources": "Sumber",
        "page": "hlm. {n}",
        "thinking": "Sedang mencari…",
        "too_fast": "Anda menghantar mesej terlalu cepat. Sila tunggu seminit dan cuba lagi.",
        "bot_busy": "Kami sedang membantu ramai pelanggan. Sila cuba lagi sebentar lagi.",
        "too_long": "Mesej itu terlalu panjang. Sila hadkan kepada {limit} aksara.",
        "conversation_full": "Perbualan ini telah mencapai hadnya. Sila mulakan perbualan baharu.",
        "empty": "Sila taip soalan anda.",
        "not_allowed": "Sembang ini tidak tersedia di laman web ini.",
        "unknown_bot": "Sembang ini tidak tersedia.",
        "bad_request": "Maaf, mesej itu tidak dapat dibaca. Sila cuba lagi.",
        "failed": "Maaf, berlaku masalah. Sila cuba lagi.",
        "offline": "Sembang tidak dapat dihubungi. Sila semak sambungan anda dan cuba lagi.",
        "helpful": "Membantu",
        "not_helpful": "Tidak membantu",
        "thanks": "Terima kasih atas maklum balas anda.",
        "feedback_ask": "Bagaimana layanan kami?",
        "feedback_1": "Sangat teruk",
        "feedback_2": "Teruk",
        "feedback_3": "Biasa",
        "feedback_4": "Bagus",
        "feedback_5": "Sangat bagus",
        "consent_required": "Sila baca dan terima notis privasi sebelum bersembang.",
        "notice_changed": "Notis privasi kami telah berubah. Sila baca semula.",
        "gone": "Perbualan ini tidak lagi disimpan.",
        "privacy_title": "Sebelum kita bersembang",
        "agree": "Setuju dan sembang",
        "agree_no_keep": "Sembang tanpa menyimpan perbualan ini",
        "privacy": "Notis privasi",
        "delete_conversation": "Padam perbualan ini",
        "confirm_delete": "Padam perbualan ini selama-lamanya? Ia tidak boleh dibatalkan.",
        "deleted": "Perbualan anda telah dipadam.",
        "not_kept": "Perbualan ini tidak disimpan.",
        "reference": "Rujukan perbualan: {id}",
    },
    "zh": {
        "lead_intro": "请留下您的姓名和电话或电邮，我们会尽快联系您。",
        "lead_purpose": "这些资料只用于就此事回复您，保留 {days} 天。",
        "lead_name": "您的姓名",
        "lead_phone": "电话",
        "lead_email": "电邮",
        "lead_message": "什么事情？",
        "lead_send": "请联系我",
        "lead_taken": "谢谢！我们会尽快联系您。",
        "lead_contact_missing": "请提供电话号码或电邮地址。",
        "lead_bad_phone": "电话号码似乎不正确，请检查。",
        "lead_bad_email": "电邮地址似乎不正确，请检查。",
        "too_long_lead": "内容太长，请缩短姓名和留言。",
        "staff": "工作人员",
        "joined": "{name} 加入了对话。",
        "team_joined": "我们的工作人员加入了对话。",
        "handed_back": "您现在再次与智能助手对话。",
        "closed": "工作人员已结束此对话。欢迎随时再留言。",
        "placeholder": "请输入您的问题…",
        "send": "发送",
        "open": "在线咨询",
        "close": "关闭对话",
        "new_conversation": "新对话",
        "sources": "来源",
        "page": "第 {n} 页",
        "thinking": "正在查找…",
        "too_fast": "您发送消息太快了，请稍等一分钟再试。",
        "bot_busy": "我们正在为很多顾客服务，请稍后再试。",
        "too_long": "消息太长了，请不要超过 {limit} 个字符。",
        "conversation_full": "本次对话已达上限，请开始新的对话。",
        "empty": "请输入您的问题。",
        "not_allowed": "此网站无法使用本聊天服务。",
        "unknown_bot": "此聊天服务不可用。",
        "bad_request": "抱歉，无法读取该消息，请重试。",
        "failed": "抱歉，出了点问题，请重试。",
        "offline": "无法连接聊天服务，请检查网络后重试。",
        "helpful": "有帮助",
        "not_helpful": "没有帮助",
        "thanks": "谢谢您的反馈。",
        "feedback_ask": "我们的服务怎么样？",
        "feedback_1": "很差",
        "feedback_2": "差",
        "feedback_3": "一般",
        "feedback_4": "好",
        "feedback_5": "很好",
        "consent_required": "请先阅读并接受隐私声明，再开始聊天。",
        "notice_changed": "我们的隐私声明已更新，请重新阅读。",
        "gone": "此对话已不再保存。",
        "privacy_title": "聊天之前",
        "agree": "同意并开始聊天",
        "agree_no_keep": "聊天但不保存此对话",
        "privacy": "隐私声明",
        "delete_conversation": "删除此对话",
        "confirm_delete": "永久删除此对话？删除后无法恢复。",
        "deleted": "您的对话已删除。",
        "not_kept": "此对话不会被保存。",
        "reference": "对话编号：{id}",
    },
}
# fmt: on


def text(language: str, key: str, **values: object) -> str:
    table = TEXTS.get(language, TEXTS["en"])
    return table[key].format(**values) if values else table[key]


def visitor_language(message: str | None, accept_language: str | None) -> str:
    """The language to speak to a visitor in: their message's, else their browser's."""
    if message and message.strip():
        detected = detect_language(message)
        if detected in LANGUAGES:
            return detected
    return browser_language(accept_language)


def browser_language(accept_language: str | None) -> str:
    """The first of our languages in an Accept-Language header, by the visitor's preference."""
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate((accept_language or "").split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        base = tag.strip().lower().split("-")[0]
        if base == "id":  # Indonesian readers read Malay best of the three
            base = "ms"
        if base in LANGUAGES:
            ranked.append((-quality, position, base))
    return min(ranked)[2] if ranked else "en"
