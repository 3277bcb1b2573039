// Chinese labels for the modeler (palette, context pad, popup menu) and the properties panel.
const zh = {
  'Activate hand tool': '抓手工具', 'Activate the hand tool': '抓手工具',
  'Activate lasso tool': '套索工具', 'Activate the lasso tool': '套索工具',
  'Activate create/remove space tool': '创建/删除空间', 'Activate the create/remove space tool': '创建/删除空间',
  'Activate global connect tool': '连线工具', 'Activate the global connect tool': '连线工具',
  'Create start event': '创建开始事件', 'Create end event': '创建结束事件', 'Create task': '创建任务',
  'Create intermediate/boundary event': '创建中间/边界事件', 'Create gateway': '创建网关',
  'Create data object reference': '创建数据对象', 'Create data store reference': '创建数据存储',
  'Create expanded sub-process': '创建子流程', 'Create pool/participant': '创建池',
  'Create group': '创建分组', 'Create StartEvent': '创建开始事件', 'Create EndEvent': '创建结束事件',
  'Create Task': '创建任务', 'Create Gateway': '创建网关',
  'Append end event': '追加结束事件', 'Append gateway': '追加网关', 'Append task': '追加任务',
  'Append intermediate/boundary event': '追加中间事件', 'Append user task': '追加用户任务',
  'Append text annotation': '追加注释', 'Add text annotation': '添加注释',
  'Change type': '更改类型', 'Change element': '更改类型', 'Delete': '删除',
  'Connect using sequence/message flow or association': '连线', 'Connect to other element': '连线',
  'Connect using association': '关联连线', 'Connect using data input association': '数据关联',
  'Add lane above': '在上方添加泳道', 'Add lane below': '在下方添加泳道',
  'Divide into two lanes': '拆分为两个泳道', 'Divide into three lanes': '拆分为三个泳道',
  'Search in diagram': '在图中搜索', 'Task': '任务', 'User task': '用户任务', 'Service task': '服务任务',
  'Script task': '脚本任务', 'Manual task': '手工任务', 'Send task': '发送任务', 'Receive task': '接收任务',
  'Business rule task': '业务规则任务', 'Call activity': '调用活动', 'Sub-process (collapsed)': '子流程（折叠）',
  'Sub-process (expanded)': '子流程（展开）', 'Start event': '开始事件', 'End event': '结束事件',
  'Intermediate throw event': '中间抛出事件', 'Timer intermediate catch event': '定时中间事件',
  'Timer start event': '定时开始事件', 'Timer boundary event': '定时边界事件',
  'Exclusive gateway': '排他网关', 'Parallel gateway': '并行网关', 'Inclusive gateway': '包容网关',
  'Event-based gateway': '事件网关', 'Complex gateway': '复杂网关', 'Sequence flow': '连线',
  'Default flow': '默认连线', 'Conditional flow': '条件连线',
  // properties panel
  'General': '常规', 'Name': '名称', 'ID': '编号', 'Documentation': '说明', 'Element documentation': '元素说明',
  'Process documentation': '流程说明', 'Executable': '可执行', 'Process ID': '流程编号', 'Process name': '流程名称',
  'Timer': '计时器', 'Type': '类型', 'Value': '值', 'Condition': '条件', 'Extension properties': '扩展属性',
  'ID must not be empty.': '编号不能为空。', 'ID must be unique.': '编号不能重复。',
  'Element must have an unique id.': '元素必须有唯一编号。', 'Select an element to edit its properties.': '请选择一个元素以编辑属性。',
  'Multiple elements are selected. Select a single one to edit its properties.': '已选中多个元素，请只选一个。',
  '<none>': '（无）', 'Participant': '参与者', 'Lane': '泳道'
};

export default function translate(template, replacements) {
  replacements = replacements || {};
  const text = zh[template] || template;
  return text.replace(/{([^}]+)}/g, (_, key) => (key in replacements ? replacements[key] : `{${key}}`));
}

export const TranslateModule = { translate: ['value', translate] };
